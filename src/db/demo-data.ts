import type { FastifyBaseLogger } from 'fastify'
import type { Database } from './database.js'

/**
 * Demo data for trying Therapath with one command. Each feature that has something to show offers a
 * loader, and the entry points pass them in (src/features.ts), so nothing here depends on a
 * feature. Loaders must be idempotent (upsert by a stable key), since
 * `npm run db:seed` may run them on a database that already has some of their rows.
 */
export interface DemoDataOptions {
  /** How many demo therapists to write (`npm run db:seed -- --therapists 100000`). */
  therapists?: number
  /** Seed of the deterministic generator. */
  seed?: number
  /** Told the credentials of a demo app a loader created (its secret is stored only as a hash), to show them again later. */
  onCredentials?: (credentials: { clientId: string; clientSecret: string }) => void
}

export interface DemoDataLoader {
  name: string
  load(db: Database, log: FastifyBaseLogger, options?: DemoDataOptions): Promise<void>
}

const MARKER_KEY = 'demo_data'

/** Runs every loader, then records that demo data is in this database. */
export async function loadDemoData(db: Database, log: FastifyBaseLogger, loaders: readonly DemoDataLoader[], options: DemoDataOptions = {}): Promise<string[]> {
  for (const loader of loaders) {
    const started = performance.now()
    await loader.load(db, log, options)
    log.info({ loader: loader.name, ms: Math.round(performance.now() - started) }, 'demo data loaded')
  }
  const names = loaders.map((loader) => loader.name)
  const value = { loadedAt: new Date().toISOString(), loaders: names }
  await db.prisma.systemState.upsert({ where: { key: MARKER_KEY }, create: { key: MARKER_KEY, value }, update: { value } })
  return names
}

/** True once demo data was loaded into this database (by the first start or by `db:seed`). */
export async function hasDemoData(db: Database): Promise<boolean> {
  return (await db.prisma.systemState.findUnique({ where: { key: MARKER_KEY } })) !== null
}
