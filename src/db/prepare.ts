import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.js'
import { type Database, MIGRATIONS_DIR } from './database.js'
import { type DemoCredentials, readDemoCredentials, saveDemoCredentials } from './demo-credentials.js'
import { type DemoDataLoader, hasDemoData, loadDemoData } from './demo-data.js'
import { applyMigrations, blockingProblem, type Migration, MigrationError, migrationStatus, readMigrations } from './migrations.js'

export interface PreparedDatabase {
  appliedMigrations: string[]
  demoDataLoaded: boolean
  /** In demo mode (embedded database, DEMO_DATA=auto): the demo app's credentials, to show on every start. */
  demoCredentials?: DemoCredentials
}

export interface PrepareOptions {
  /** The migrations to apply; read from MIGRATIONS_DIR when omitted. */
  migrations?: Migration[]
  /** What an empty embedded database gets on its first start (src/features.ts for the server). */
  demoLoaders: readonly DemoDataLoader[]
}

/**
 * Everything the database needs before the app serves: pending migrations (unless the operator
 * migrates separately), and demo data on the first start of an empty embedded database. Postgres
 * never gets demo data here; `npm run db:seed` loads it on request.
 * @throws MigrationError when migrating is unsafe (a failed or edited migration).
 */
export async function prepareDatabase(db: Database, config: Config, log: FastifyBaseLogger, options: PrepareOptions): Promise<PreparedDatabase> {
  const migrations = options.migrations ?? readMigrations(MIGRATIONS_DIR)
  let appliedMigrations: string[] = []
  if (config.MIGRATE_ON_START) {
    const started = performance.now()
    const result = await db.withSession((session) => applyMigrations(session, migrations))
    appliedMigrations = result.applied
    log.info({ applied: result.applied, ms: Math.round(performance.now() - started) }, 'migrations up to date')
    if (result.unknown.length > 0) {
      log.warn({ unknown: result.unknown }, 'the database has migrations this version does not know: is an older version running?')
    }
  } else {
    const status = await db.withSession((session) => migrationStatus(session, migrations))
    const problem = blockingProblem(status)
    if (problem) throw new MigrationError(problem)
    if (status.pending.length > 0) log.warn({ pending: status.pending }, 'migrations pending; /readyz answers 503 until they are applied')
  }

  let demoDataLoaded = false
  let demoCredentials: DemoCredentials | undefined
  const demoMode = db.kind === 'embedded' && config.DEMO_DATA === 'auto'
  if (demoMode && !(await hasDemoData(db))) {
    log.info('first start: loading the demo data (a demo app and 3,000 demo therapists), which takes up to half a minute')
    const onCredentials = (credentials: DemoCredentials) => {
      demoCredentials = credentials
      saveDemoCredentials(config, credentials)
    }
    await loadDemoData(db, log, options.demoLoaders, { onCredentials })
    demoDataLoaded = true
  }
  if (demoMode) demoCredentials ??= readDemoCredentials(config)
  return { appliedMigrations, demoDataLoaded, ...(demoCredentials ? { demoCredentials } : {}) }
}
