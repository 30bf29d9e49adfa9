/**
 * The process entry: read the configuration and the keys, open and prepare the database, build the
 * app, listen, and shut down gracefully on SIGTERM/SIGINT with close-with-grace (stop accepting, let
 * in-flight requests finish, close the database, exit 0).
 */
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { MIGRATIONS_DIR, openDatabase } from './db/database.js'
import { demoBanner } from './db/demo-credentials.js'
import { MigrationError, readMigrations } from './db/migrations.js'
import { prepareDatabase } from './db/prepare.js'
import { DEMO_DATA_LOADERS, FEATURE_LOG_REDACTIONS } from './features.js'
import { createLogger } from './logger.js'
import { loadSigningKeys } from './modules/auth/keys.js'
import { loadJournalKeys } from './modules/journal/journal-keys.js'

/** After a signal, give in-flight requests this long before giving up on a clean exit. */
const SHUTDOWN_GRACE_MS = 10_000

/** The configuration and the keys: every way they can be wrong is one line on stderr, before any database work. */
async function configure() {
  try {
    const config = loadConfig(process.env)
    return { config, keys: await loadSigningKeys(config), journalKeys: loadJournalKeys(config) }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      process.exit(1)
    }
    throw error
  }
}

async function main(): Promise<void> {
  const { config, keys, journalKeys } = await configure()
  const log = createLogger(config, { redactKeys: FEATURE_LOG_REDACTIONS })
  const db = await openDatabase(config)
  try {
    const migrations = readMigrations(MIGRATIONS_DIR)
    const prepared = await prepareDatabase(db, config, log, { migrations, demoLoaders: DEMO_DATA_LOADERS })
    const app = await buildApp(config, { db, logger: log, keys, journalKeys, migrations })

    // The first SIGTERM/SIGINT (or an uncaught error) drains in-flight requests and closes the
    // database; a second signal, or the grace period running out, exits at once with 1.
    closeWithGrace(
      { delay: SHUTDOWN_GRACE_MS, logger: log, onTimeout: () => log.error('shutdown grace period over; exiting with requests still open') },
      async ({ signal, err }) => {
        if (err) log.error({ err }, 'shutting down after an unexpected error')
        else log.info({ signal }, 'shutting down: draining in-flight requests')
        await app.close()
        await db.close()
        log.info('shut down cleanly')
      },
    )

    const address = await app.listen({ port: config.PORT, host: config.HOST })
    log.info(
      {
        address,
        database: db.kind,
        appliedMigrations: prepared.appliedMigrations.length,
        demoDataLoaded: prepared.demoDataLoaded,
        startupMs: Math.round(performance.now()),
      },
      `Therapath is listening on ${address} (docs at ${address}/docs)`,
    )
    if (prepared.demoCredentials) process.stderr.write(demoBanner(address, prepared.demoCredentials))
  } catch (error) {
    await db.close().catch(() => undefined)
    if (error instanceof MigrationError) {
      log.fatal(`cannot start: ${error.message}`)
      process.exit(1)
    }
    throw error
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
