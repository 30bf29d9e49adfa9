import type { DemoDataLoader } from '../../db/demo-data.js'
import { createApiClient } from './clients-service.js'

/**
 * A demo integrator app for the embedded demo, so the directory can be tried at once with the
 * client-credentials grant. Its secret is logged once, labelled as demo only, and handed to `onCredentials`
 * (the server keeps it in DATA_DIR and shows it on every start of the embedded demo).
 */
export const demoClientLoader: DemoDataLoader = {
  name: 'demo-api-client',
  async load(db, log, options) {
    if (await db.prisma.apiClient.findUnique({ where: { clientId: 'tpc_demo' } })) return
    const client = await createApiClient(db.prisma, { name: 'Demo app (demo only)', scopes: ['directory:read', 'directory:write'], clientId: 'tpc_demo' })
    log.warn(`DEMO ONLY: created API client client_id=${client.clientId} client_secret=${client.clientSecret} scopes="${client.scopes.join(' ')}"`)
    options?.onCredentials?.({ clientId: client.clientId, clientSecret: client.clientSecret })
  },
}
