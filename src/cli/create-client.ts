/**
 * `npm run client:create -- --name "Acme Wellbeing" --scopes directory:read[,directory:write]`
 * Registers an integrator app and prints its client id and secret, once: only a hash is stored.
 */
import { parseArgs } from 'node:util'
import { loadConfig } from '../config.js'
import { MIGRATIONS_DIR } from '../db/database.js'
import { openDatabaseForCommand } from './open-database.js'
import { applyMigrations, readMigrations } from '../db/migrations.js'
import { CLIENT_SCOPES } from '../lib/scopes.js'
import { createApiClient } from '../modules/auth/clients-service.js'

const { values } = parseArgs({ options: { name: { type: 'string' }, scopes: { type: 'string' } } })
if (!values.name || !values.scopes) {
  console.error(`usage: npm run client:create -- --name "App name" --scopes ${CLIENT_SCOPES.join(',')}`)
  process.exit(2)
}

// Signs and encrypts nothing: runs on Postgres without the service's keys.
const config = loadConfig(process.env, { sharedKeys: 'optional' })
const db = await openDatabaseForCommand(config)
try {
  await db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))
  const client = await createApiClient(db.prisma, { name: values.name, scopes: values.scopes.split(/[,\s]+/).filter(Boolean) })
  console.log(
    JSON.stringify({ clientId: client.clientId, clientSecret: client.clientSecret, name: client.name, scopes: client.scopes }, null, 2),
  )
  console.error('Store the secret now: it is not shown again.')
} catch (error) {
  console.error(`cannot create the client: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
} finally {
  await db.close()
}
