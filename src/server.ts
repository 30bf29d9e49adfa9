/**
 * The process entry: read the configuration and the keys, open and prepare the database, build the
 * app, listen, and shut down gracefully on SIGTERM/SIGINT with close-with-grace (stop accepting, let
 * in-flight requests finish, close the database, exit 0).
 */
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { DataDirLockedError } from './db/data-dir-lock.js'
import { type Database, MIGRATIONS_DIR, openDatabase } from './db/database.js'
import { demoBanner } from './db/demo-credentials.js'
import { MigrationError, readMigrations } from './db/migrations.js'
import { type PreparedDatabase, prepareDatabase } from './db/prepare.js'
import { DatabaseUnreachableError, waitForDatabase } from './db/startup.js'
import { DEMO_DATA_LOADERS, FEATURE_LOG_REDACTIONS } from './features.js'
import { drainAndClose } from './lifecycle/shutdown.js'
import { createLogger } from './logger.js'
import { loadSigningKeys } from './modules/auth/keys.js'
import { loadJournalKeys } from './modules/journal/journal-keys.js'

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
  let db: Database | undefined
  try {
    const migrations = readMigrations(MIGRATIONS_DIR)
    let prepared: PreparedDatabase
    if (config.DATABASE_URL) {
      // Postgres may still be starting (compose, a reboot): wait for it, then migrate on a short-lived
      // handle without the statement timeout that bounds requests, since a migration may run longer.
      const setup = await openDatabase(config, { statementTimeoutMs: 0, poolSize: 2 })
      try {
        await waitForDatabase(setup, log, config.DB_START_RETRY_SECONDS)
        prepared = await prepareDatabase(setup, config, log, { migrations, demoLoaders: DEMO_DATA_LOADERS })
      } finally {
        await setup.close().catch(() => undefined)
      }
      db = await openDatabase(config)
    } else {
      db = await openDatabase(config)
      prepared = await prepareDatabase(db, config, log, { migrations, demoLoaders: DEMO_DATA_LOADERS })
    }
    const app = await buildApp(config, { db, logger: log, keys, journalKeys, migrations })

    // The first SIGTERM/SIGINT (or an uncaught error) fails readiness, serves on for the grace period,
    // drains in-flight requests and closes the database (src/lifecycle/shutdown.ts); a second signal,
    // or grace plus drain running out, exits at once with 1.
    const graceMs = config.SHUTDOWN_GRACE_SECONDS * 1000
    closeWithGrace(
      { delay: graceMs + config.SHUTDOWN_DRAIN_SECONDS * 1000, logger: log, onTimeout: () => log.error('shutdown drain time over; exiting with requests still open') },
      async ({ signal, err }) => {
        if (err) log.error({ err }, 'shutting down after an unexpected error')
        else log.info({ signal }, 'shutting down')
        // An uncaught error skips the grace period: the process may be in no state to serve.
        await drainAndClose(app, { graceMs: err ? 0 : graceMs, log })
        await db?.close()
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
    await db?.close().catch(() => undefined)
    if (error instanceof MigrationError || error instanceof DatabaseUnreachableError || error instanceof DataDirLockedError) {
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
