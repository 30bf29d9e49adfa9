/**
 * `npm run db:seed [-- --therapists N] [--seed S]`: loads the demo data into the configured
 * database (Postgres or embedded), migrating first. Loaders upsert, so running it twice is
 * harmless, and a larger --therapists extends a smaller run.
 */
import { parseArgs } from 'node:util'
import { loadConfig } from '../config.js'
import { MIGRATIONS_DIR } from '../db/database.js'
import { openDatabaseForCommand } from './open-database.js'
import { saveDemoCredentials } from '../db/demo-credentials.js'
import { loadDemoData } from '../db/demo-data.js'
import { applyMigrations, readMigrations } from '../db/migrations.js'
import { DEMO_DATA_LOADERS, FEATURE_LOG_REDACTIONS } from '../features.js'
import { createLogger } from '../logger.js'

const { values: args } = parseArgs({ options: { therapists: { type: 'string' }, seed: { type: 'string' } } })
const asCount = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!Number.isInteger(number) || number < 0 || number > 10_000_000) {
    console.error(`--${name} must be a whole number from 0 to 10000000`)
    process.exit(2)
  }
  return number
}
const options = { therapists: asCount(args.therapists, 'therapists'), seed: asCount(args.seed, 'seed') }

// Signs and encrypts nothing: runs on Postgres without the service's keys.
const config = loadConfig(process.env, { sharedKeys: 'optional' })
const log = createLogger(config, { redactKeys: FEATURE_LOG_REDACTIONS })
const db = await openDatabaseForCommand(config)
try {
  await db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))
  const started = performance.now()
  const loaders = await loadDemoData(db, log, DEMO_DATA_LOADERS, { ...options, onCredentials: (credentials) => saveDemoCredentials(config, credentials) })
  log.info({ loaders, database: db.kind, ms: Math.round(performance.now() - started) }, 'demo data loaded')
} catch (error) {
  log.fatal(error instanceof Error ? error.message : String(error))
  process.exitCode = 1
} finally {
  await db.close()
}
