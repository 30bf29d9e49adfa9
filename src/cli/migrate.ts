/**
 * `npm run db:migrate`: applies pending migrations and exits, for operators who migrate before
 * rolling out (set MIGRATE_ON_START=false on the app then). Same runner and rules as at start.
 */
import { loadConfig } from '../config.js'
import { MIGRATIONS_DIR } from '../db/database.js'
import { openDatabaseForCommand } from './open-database.js'
import { applyMigrations, readMigrations } from '../db/migrations.js'
import { FEATURE_LOG_REDACTIONS } from '../features.js'
import { createLogger } from '../logger.js'

// Signs and encrypts nothing: runs on Postgres without the service's keys.
const config = loadConfig(process.env, { sharedKeys: 'optional' })
const log = createLogger(config, { redactKeys: FEATURE_LOG_REDACTIONS })
const db = await openDatabaseForCommand(config)
try {
  const result = await db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))
  log.info({ applied: result.applied, database: db.kind }, result.applied.length > 0 ? 'migrations applied' : 'nothing to migrate')
} catch (error) {
  log.fatal(error instanceof Error ? error.message : String(error))
  process.exitCode = 1
} finally {
  await db.close()
}
