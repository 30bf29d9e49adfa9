/**
 * `npm run bench`: directory search at 100,000 therapists, the API against its floor.
 *
 * Needs DATABASE_URL pointing at a benchmark database (e.g. createdb therapath_bench), which it
 * seeds to 100,000 generated therapists if it has fewer. Then it starts the built service, and for
 * each search shape measures the API with autocannon (50 connections, 15 s, after a warm-up) and
 * the floor: the very same SQL with the same parameters, through `pg` from this process at the same
 * concurrency, with the API's pool size, no HTTP. Prints req/s, p50, p99 and the API/floor ratio,
 * and writes .bench/results.json. Not a test: absolute numbers move with the machine.
 *
 * Options (env): BENCH_SECONDS (15), BENCH_CONNECTIONS (50), BENCH_WARMUP_SECONDS (3), BENCH_THERAPISTS (100000).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import autocannon from 'autocannon'
import pg from 'pg'
import { MIGRATIONS_DIR, openPostgres } from '../../src/db/database.js'
import { applyMigrations, readMigrations } from '../../src/db/migrations.js'
import { TherapistSearchQuerySchema } from '../../src/modules/directory/directory-schemas.js'
import { createApiClient } from '../../src/modules/auth/clients-service.js'
import { generateSigningJwk } from '../../src/modules/auth/keys.js'
import { generateJournalKey } from '../../src/modules/journal/journal-keys.js'
import { seedTherapists } from '../../src/modules/directory/directory-seed.js'
import { createDirectoryService, PROFILE_SQL } from '../../src/modules/directory/directory-service.js'
import { resolveSearch } from '../../src/modules/directory/search/search-request.js'
import { searchStatements, type SqlStatement } from '../../src/modules/directory/search/search-sql.js'
import { FACET_SHAPE, SEARCH_SHAPES } from './shapes.js'

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const SECONDS = env('BENCH_SECONDS', 15)
const CONNECTIONS = env('BENCH_CONNECTIONS', 50)
const WARMUP = env('BENCH_WARMUP_SECONDS', 3)
const THERAPISTS = env('BENCH_THERAPISTS', 100_000)
/** The API's pool size (openPostgres default); the floor uses the same. */
const POOL_SIZE = 10
const ROOT = path.resolve(import.meta.dirname, '../..')

const url = process.env.DATABASE_URL
if (!url) {
  console.error('Set DATABASE_URL to a benchmark database, e.g. createdb therapath_bench && DATABASE_URL=postgresql://postgres@127.0.0.1:5432/therapath_bench npm run bench')
  process.exit(2)
}
if (/\/postgres(\?|$)/.test(url)) console.warn('warning: benchmarking in the "postgres" database; a dedicated one (therapath_bench) is safer')

interface Result {
  reqPerSec: number
  p50: number
  p99: number
  errors: number
}

// ---------- data ----------

const db = openPostgres(url, { poolSize: POOL_SIZE })
await db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))
const [{ n: existing } = { n: 0 }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM therapist WHERE deleted_at IS NULL`)
if (existing < THERAPISTS) {
  console.log(`seeding: ${existing} therapists present, writing ${THERAPISTS} (about half a minute)…`)
  const started = performance.now()
  await seedTherapists(db, { count: THERAPISTS })
  console.log(`seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}
const ids = (await db.query<{ id: string }>(`SELECT id FROM therapist WHERE deleted_at IS NULL ORDER BY random() LIMIT 2000`)).map((row) => row.id)
// The API is measured as integrators call it: with an app token, verified on every request.
const benchClient = await createApiClient(db.prisma, { name: `bench ${new Date().toISOString()}`, scopes: ['directory:read'] })
const directory = createDirectoryService({ db })
const vocabulary = await directory.vocabulary()
await db.close()

// ---------- the service ----------

/** The built service on a free port, request logging off (warn): per-request log lines are an operator's choice, not what is compared here. */
async function serviceBase(): Promise<{ child: ChildProcess; base: string; authorization: string }> {
  const port = 30_000 + Math.floor(Math.random() * 20_000)
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: ROOT,
    // Facet cache off: the facet shape measures counting, as its floor does, not a cache hit.
    // Rate limit raised: it would cap one client far below what is being measured (its bookkeeping still runs).
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: url,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      MIGRATE_ON_START: 'false',
      FACET_CACHE_SECONDS: '0',
      AUTH_SIGNING_KEYS: JSON.stringify(await generateSigningJwk()),
      AUTH_ACCESS_TOKEN_TTL_SECONDS: '3600',
      JOURNAL_ENCRYPTION_KEYS: generateJournalKey(),
      RATE_LIMIT_MAX: '100000000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200; i += 1) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) {
        const token = await fetch(`${base}/v1/oauth/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: benchClient.clientId, client_secret: benchClient.clientSecret }),
        })
        const { access_token: accessToken } = (await token.json()) as { access_token: string }
        return { child, base, authorization: `Bearer ${accessToken}` }
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  child.kill('SIGTERM')
  throw new Error('the service did not become ready')
}

// ---------- measuring ----------

/** The bench app's bearer token, sent with every API request. */
let authorization = ''

async function measureApi(base: string, paths: () => string, seconds: number): Promise<Result> {
  const result = await autocannon({
    url: base,
    headers: { authorization },
    connections: CONNECTIONS,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: paths() }) }],
  })
  return { reqPerSec: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx }
}

/**
 * The floor: each request's statements through a pg pool from CONNECTIONS concurrent callers, no
 * HTTP, after a WARMUP-second warm-up on the same pool. A request's statements are issued together,
 * as the API issues the page and the facet counts.
 */
async function measureFloor(statements: () => SqlStatement[], seconds: number): Promise<Result> {
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE })
  const latencies: number[] = []
  let errors = 0
  const run = async (until: number, record: boolean) => {
    while (performance.now() < until) {
      const request = statements()
      const started = performance.now()
      try {
        await Promise.all(request.map(({ sql, params }) => pool.query(sql, params)))
        if (record) latencies.push(performance.now() - started)
      } catch {
        if (record) errors += 1
      }
    }
  }
  const warm = performance.now() + WARMUP * 1000
  await Promise.all(Array.from({ length: CONNECTIONS }, () => run(warm, false)))
  const started = performance.now()
  const deadline = started + seconds * 1000
  await Promise.all(Array.from({ length: CONNECTIONS }, () => run(deadline, true)))
  const elapsed = (performance.now() - started) / 1000
  await pool.end()
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN
  return { reqPerSec: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors }
}

async function statementsFor(query: string): Promise<{ page: SqlStatement; facets: SqlStatement | null }> {
  const parsed = TherapistSearchQuerySchema.parse(Object.fromEntries(new URLSearchParams(query)))
  return searchStatements(await resolveSearch(parsed, vocabulary))
}

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)] as T

interface Row {
  shape: string
  api: Result
  floor: Result
}
const rows: Row[] = []
const service = await serviceBase()
const { child, base } = service
authorization = service.authorization
try {
  const shapes = [...SEARCH_SHAPES, FACET_SHAPE]
  for (const shape of shapes) {
    // The floor runs what the API runs for this request: the page, and the facet counts when asked for.
    const statements = await statementsFor(shape.query)
    const path = `/v1/therapists?${shape.query}`
    const check = await fetch(`${base}${path}`, { headers: { authorization } })
    if (!check.ok) throw new Error(`${shape.name}: ${check.status} ${await check.text()}`)
    await measureApi(base, () => path, WARMUP)
    const api = await measureApi(base, () => path, SECONDS)
    const request = statements.facets ? [statements.facets, statements.page] : [statements.page]
    const floor = await measureFloor(() => request, SECONDS)
    rows.push({ shape: shape.name, api, floor })
    print(rows.at(-1))
  }
  const profilePath = () => `/v1/therapists/${pick(ids)}`
  await measureApi(base, profilePath, WARMUP)
  const api = await measureApi(base, profilePath, SECONDS)
  const floor = await measureFloor(() => [{ sql: PROFILE_SQL, params: [pick(ids)] }], SECONDS)
  rows.push({ shape: 'profile by id', api, floor })
  print(rows.at(-1))
} finally {
  child.kill('SIGTERM')
}

function print(row: Row | undefined) {
  if (!row) return
  const f = (n: number, digits = 1) => n.toFixed(digits)
  console.log(
    `${row.shape.padEnd(34)} API ${f(row.api.reqPerSec, 0).padStart(6)} req/s p50 ${f(row.api.p50).padStart(6)} p99 ${f(row.api.p99).padStart(6)} ms | ` +
      `floor ${f(row.floor.reqPerSec, 0).padStart(6)} req/s p50 ${f(row.floor.p50).padStart(6)} p99 ${f(row.floor.p99).padStart(6)} ms | ` +
      `API/floor ${f((100 * row.api.reqPerSec) / row.floor.reqPerSec, 0)} %${row.api.errors + row.floor.errors > 0 ? `  (errors: api ${row.api.errors}, floor ${row.floor.errors})` : ''}`,
  )
}

console.log('\n| shape | API req/s | API p50 ms | API p99 ms | floor req/s | floor p50 ms | floor p99 ms | API/floor |')
console.log('|---|---:|---:|---:|---:|---:|---:|---:|')
for (const row of rows) {
  const f = (n: number, digits = 1) => n.toFixed(digits)
  console.log(`| ${row.shape} | ${f(row.api.reqPerSec, 0)} | ${f(row.api.p50)} | ${f(row.api.p99)} | ${f(row.floor.reqPerSec, 0)} | ${f(row.floor.p50)} | ${f(row.floor.p99)} | ${f((100 * row.api.reqPerSec) / row.floor.reqPerSec, 0)} % |`)
}
mkdirSync(path.join(ROOT, '.bench'), { recursive: true })
writeFileSync(path.join(ROOT, '.bench/results.json'), `${JSON.stringify({ at: new Date().toISOString(), seconds: SECONDS, connections: CONNECTIONS, rows }, null, 2)}\n`)
