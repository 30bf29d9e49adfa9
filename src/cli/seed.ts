/**
 * `npm run db:seed`: loads the demo data into the configured database (Postgres or embedded),
 * migrating first. Loaders upsert, so running it twice is harmless.
 */
import { loadConfig } from '../config.js'
import { MIGRATIONS_DIR, openDatabase } from '../db/database.js'
import { loadDemoData } from '../db/demo-data.js'
import { applyMigrations, readMigrations } from '../db/migrations.js'
import { createLogger } from '../logger.js'

const config = loadConfig(process.env)
const log = createLogger(config)
const db = await openDatabase(config)
try {
  await db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))
  const loaders = await loadDemoData(db, log)
  log.info({ loaders, database: db.kind }, 'demo data loaded')
} catch (error) {
  log.fatal(error instanceof Error ? error.message : String(error))
  process.exitCode = 1
} finally {
  await db.close()
}
