import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../../db/database.js'
import type { DemoDataLoader } from '../../db/demo-data.js'
import { postalCodes } from './postal-codes.js'
import { generateTherapist, geoPool } from './therapist-generator.js'
import { normalizeTherapist, type TherapistRow, UPSERT_BY_EXTERNAL_ID } from './therapist-write.js'
import { loadVocabulary } from './vocabulary.js'

/** Therapists in the embedded demo: enough to feel real, few enough to load in a few seconds. */
export const DEMO_THERAPISTS = 3000
export const DEMO_SEED = 42

export interface SeedOptions {
  count: number
  seed?: number
  /** Rows per statement. */
  batchSize?: number
  /** Statements in flight at once (Postgres only; the embedded database runs one at a time anyway). */
  concurrency?: number
  log?: FastifyBaseLogger
}

/**
 * Writes `count` generated therapists through the same upsert as imports (by externalId), so
 * seeding twice changes nothing and a larger run extends a smaller one.
 * @returns how many rows were created, updated or left unchanged
 */
export async function seedTherapists(db: Pick<Database, 'query' | 'prisma' | 'kind'>, options: SeedOptions): Promise<Record<string, number>> {
  const { count, seed = DEMO_SEED, batchSize = 1000 } = options
  const concurrency = db.kind === 'postgres' ? (options.concurrency ?? 2) : 1
  const vocabulary = await loadVocabulary(db)
  const pool = geoPool(await postalCodes())
  const totals: Record<string, number> = { created: 0, updated: 0, unchanged: 0 }
  const started = performance.now()

  let next = 0
  const makeBatch = async (): Promise<TherapistRow[] | null> => {
    if (next >= count) return null
    // Claim the whole range before the first await, so concurrent workers never share an index.
    const start = next
    const end = Math.min(count, start + batchSize)
    next = end
    const rows: TherapistRow[] = []
    for (let index = start; index < end; index += 1) {
      const result = await normalizeTherapist(generateTherapist(pool, seed, index), vocabulary, { ord: index })
      if (!result.ok) throw new Error(`generated therapist ${index} is invalid: ${JSON.stringify(result.errors)}`)
      rows.push(result.row)
    }
    return rows
  }
  let done = 0
  const worker = async () => {
    for (let rows = await makeBatch(); rows !== null; rows = await makeBatch()) {
      const written = await db.query<{ status: string }>(UPSERT_BY_EXTERNAL_ID, [JSON.stringify(rows)])
      for (const row of written) totals[row.status] = (totals[row.status] ?? 0) + 1
      const before = done
      done += rows.length
      if (Math.floor(done / 10_000) > Math.floor(before / 10_000)) options.log?.info({ written: done, ms: Math.round(performance.now() - started) }, 'seeding therapists')
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  // Fresh statistics, so the planner sees the new distribution (array element frequencies matter for the GIN
  // plans), and VACUUM to merge the GIN pending lists a bulk load leaves: until autovacuum gets there, every
  // GIN search scans them (5.5 ms instead of 0.01 ms for the multi-state index at 100k).
  await db.query('VACUUM ANALYZE therapist')
  await db.query('VACUUM ANALYZE therapist_office')
  return totals
}

/** The demo directory: loaded on the first start of an empty embedded database and by `npm run db:seed`. */
export const directoryDemoLoader: DemoDataLoader = {
  name: 'directory',
  async load(db, log, options = {}) {
    const totals = await seedTherapists(db, { count: options.therapists ?? DEMO_THERAPISTS, seed: options.seed ?? DEMO_SEED, batchSize: 500, log })
    log.info(totals, 'demo therapists written')
  },
}
