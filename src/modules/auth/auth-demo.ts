import type { DemoDataLoader } from '../../db/demo-data.js'
import { createApiClient } from './clients-service.js'

/**
 * A demo integrator app for the embedded demo, so the directory can be tried at once with the
 * client-credentials grant. Its secret is printed once, in the log, labelled as demo only.
 */
export const demoClientLoader: DemoDataLoader = {
  name: 'demo-api-client',
  async load(db, log) {
    if (await db.prisma.apiClient.findUnique({ where: { clientId: 'tpc_demo' } })) return
    const client = await createApiClient(db.prisma, { name: 'Demo app (demo only)', scopes: ['directory:read', 'directory:write'], clientId: 'tpc_demo' })
    log.warn(
      `DEMO ONLY: created API client client_id=${client.clientId} client_secret=${client.clientSecret} ` +
        `scopes="${client.scopes.join(' ')}". Get a token: curl -s -X POST localhost:3000/v1/oauth/token ` +
        `-d grant_type=client_credentials -d client_id=${client.clientId} -d client_secret=${client.clientSecret}`,
    )
  },
}
