/**
 * `npm run bench [-- options]`: issue 10's directory targets, measured in one run, printed as one table.
 *
 * 1. Data: migrates the Postgres in DATABASE_URL (or --database-url) and, if it holds fewer live
 *    therapists than --therapists, runs the project's seed (what `npm run db:seed -- --therapists N`
 *    runs), timed; otherwise reuses them.
 * 2. Peers: runs the anchors' lean peers (../shared/anchors/anchor-bench.sh, on their own 100,000-row
 *    database) with the same load tool, connections and duration.
 * 3. Therapath: starts `node dist/server.js` in its normal configuration (app token on every request,
 *    rate-limit bookkeeping, metrics, request logging at info to /dev/null or --service-log) with
 *    FACET_CACHE_SECONDS=0, waits for /readyz (and for its directory index, when it reports one), and
 *    measures every shape of shapes.ts: without facets at --connections, with all facets from one
 *    client, and with all facets at --connections. Every request is varied so that none is cached.
 * 4. Prints the table with a PASS/MISS column per target, then seed time, readiness, the service's
 *    memory and Postgres sizes; writes .bench/results.json; exits 1 when a target is missed.
 *
 * Not a test: absolute numbers move with the machine; compare rows of one run.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { MIGRATIONS_DIR, openPostgres } from '../../src/db/database.js'
import { applyMigrations, readMigrations } from '../../src/db/migrations.js'
import { createApiClient } from '../../src/modules/auth/clients-service.js'
import { directoryDemoLoader } from '../../src/modules/directory/directory-seed.js'
import { prng } from '../../src/modules/directory/therapist-generator.js'
import { type LoadResult, type LoadTool, runLoad } from './load.js'
import { type PeerResult, runPeers } from './peers.js'
import {
  fmtInt,
  fmtMb,
  fmtMs,
  judge,
  type JudgedRow,
  misses,
  READY_SECONDS,
  SEED_SECONDS_PER_MILLION,
  type ShapeRow,
  table,
} from './report.js'
import { COLDNESS, type PeerKind, PROFILE_SHAPE, SEARCH_SHAPES, type SearchShape, SHAPE_NAMES, shapeQuery } from './shapes.js'
import { optionsOrExit } from './cli.js'
import { type Service, startService } from './service.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const OUT_DIR = path.join(ROOT, '.bench')

const USAGE = `npm run bench -- [options]
  --therapists N       live therapists to measure at; seeds up to N if the database has fewer (default 1000000)
  --database-url URL   Postgres to use (default: DATABASE_URL)
  --seconds S          seconds per measured load (default 15)
  --warmup S           seconds of discarded load before each measured one (default 3)
  --connections N      connections of the concurrent loads, peers included (default 50)
  --only LIST          comma-separated shapes: ${SHAPE_NAMES.join(', ')}
  --skip-peers         do not run the anchors' peers (the throughput targets are then not judged)
  --tool T             wrk (default) or autocannon, for Therapath and the peers alike
  --anchors-dir DIR    the shared anchors (default: ANCHORS_DIR or ../shared/anchors from the repo)
  --service-log FILE   where the service's request log goes (default /dev/null)
  --service-env K=V    a further setting for the service (repeatable), e.g. to compare a feature switched off`

const { values: args, fail: usageError, whole } = optionsOrExit(
  () =>
    parseArgs({
      options: {
        therapists: { type: 'string', default: '1000000' },
        'database-url': { type: 'string' },
        seconds: { type: 'string', default: '15' },
        warmup: { type: 'string', default: '3' },
        connections: { type: 'string', default: '50' },
        only: { type: 'string' },
        'skip-peers': { type: 'boolean', default: false },
        tool: { type: 'string', default: 'wrk' },
        'anchors-dir': { type: 'string' },
        'service-log': { type: 'string', default: '/dev/null' },
        'service-env': { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }),
  USAGE,
)
const THERAPISTS = whole('therapists', args.therapists, 1, 10_000_000)
const SECONDS = whole('seconds', args.seconds, 1, 300)
const WARMUP = whole('warmup', args.warmup, 0, 60)
const CONNECTIONS = whole('connections', args.connections, 1, 1000)
const toolArg = args.tool
const TOOL: LoadTool = toolArg === 'wrk' || toolArg === 'autocannon' ? toolArg : usageError('--tool must be wrk or autocannon')
const ONLY = args.only === undefined ? SHAPE_NAMES : args.only.split(',').map((name) => name.trim()).filter(Boolean)
const unknown = ONLY.filter((name) => !SHAPE_NAMES.includes(name))
if (unknown.length > 0) usageError(`unknown shape(s): ${unknown.join(', ')}`)
const ANCHORS_DIR = path.resolve(ROOT, args['anchors-dir'] ?? process.env.ANCHORS_DIR ?? '../shared/anchors')
const DATABASE_URL = args['database-url'] ?? process.env.DATABASE_URL ?? usageError('Set DATABASE_URL (or --database-url) to a benchmark database, e.g. createdb therapath_bench')
if (/\/postgres(\?|$)/.test(DATABASE_URL)) console.warn('warning: benchmarking in the "postgres" database; a dedicated one (therapath_bench) is safer')
if (TOOL === 'wrk' && spawnSync('wrk', ['-v']).error) usageError('wrk is not installed: apt-get install -y wrk (or --tool autocannon)')

const SERVICE_ENV = Object.fromEntries(
  args['service-env'].map((pair) => {
    const at = pair.indexOf('=')
    return at > 0 ? [pair.slice(0, at), pair.slice(at + 1)] : usageError(`--service-env wants NAME=value, not ${pair}`)
  }),
)
if ('FACET_CACHE_SECONDS' in SERVICE_ENV) console.warn('warning: --service-env FACET_CACHE_SECONDS overrides the no-cache setting the facet targets are defined with')

const shapes = SEARCH_SHAPES.filter((shape) => ONLY.includes(shape.name))
const withProfile = ONLY.includes(PROFILE_SHAPE.name)
const say = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)
mkdirSync(OUT_DIR, { recursive: true })
const loadBefore = os.loadavg()

// ---------- 1. data ----------

interface SizeRow {
  name: string
  heap: number
  toast: number
  indexes: number
  total: number
}
interface IndexSize {
  table: string
  name: string
  bytes: number
}

const db = openPostgres(DATABASE_URL, { poolSize: 4 })
let seed: { seconds: number; written: number; existing: number } | null = null
let sharedBuffers = ''
let live: number
let ids: string[]
let client: { clientId: string; clientSecret: string }
let tables: SizeRow[]
let indexes: IndexSize[]
try {
  await db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))
  const countLive = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM therapist WHERE deleted_at IS NULL`))[0]?.n ?? 0
  live = await countLive()
  if (live < THERAPISTS) {
    say(`seeding: ${fmtInt(live)} live therapists present, writing ${fmtInt(THERAPISTS)} (the project's seed, as npm run db:seed -- --therapists ${THERAPISTS})`)
    const started = performance.now()
    await directoryDemoLoader.load(db, seedProgress(THERAPISTS, started), { therapists: THERAPISTS })
    seed = { seconds: (performance.now() - started) / 1000, written: THERAPISTS, existing: live }
    say(`seeded in ${seed.seconds.toFixed(1)} s`)
    live = await countLive()
  } else {
    say(`reusing ${fmtInt(live)} live therapists (≥ ${fmtInt(THERAPISTS)})`)
  }
  ids = (await db.query<{ id: string }>(`SELECT id FROM therapist WHERE deleted_at IS NULL ORDER BY random() LIMIT 2000`)).map((row) => row.id)
  // The service is measured as integrators call it: with an app token, verified on every request.
  client = await createApiClient(db.prisma, { name: `bench ${new Date().toISOString()}`, scopes: ['directory:read'] })
  tables = await db.query<SizeRow>(`
    SELECT c.relname AS name, pg_relation_size(c.oid)::float8 AS heap,
           (pg_total_relation_size(c.oid) - pg_relation_size(c.oid) - pg_indexes_size(c.oid))::float8 AS toast,
           pg_indexes_size(c.oid)::float8 AS indexes, pg_total_relation_size(c.oid)::float8 AS total
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'm') AND (c.relname LIKE 'therapist%' OR c.relname LIKE 'directory%')
    ORDER BY total DESC`)
  sharedBuffers = (await db.query<{ shared_buffers: string }>('SHOW shared_buffers'))[0]?.shared_buffers ?? ''
  indexes = await db.query<IndexSize>(`
    SELECT relname AS table, indexrelname AS name, pg_relation_size(indexrelid)::float8 AS bytes
    FROM pg_stat_user_indexes WHERE relname LIKE 'therapist%' OR relname LIKE 'directory%' ORDER BY relname, bytes DESC`)
} finally {
  await db.close()
}

/** The seed's progress (it logs every 10,000 rows) as short lines. */
function seedProgress(total: number, started: number) {
  return pino(
    { level: 'info', base: null, timestamp: false },
    {
      write(line: string) {
        const entry = JSON.parse(line) as { msg?: string; written?: number }
        if (entry.written !== undefined && entry.written % 100_000 === 0) {
          say(`seeding: ${fmtInt(entry.written)} / ${fmtInt(total)} after ${((performance.now() - started) / 1000).toFixed(0)} s`)
        } else if (entry.msg !== 'seeding therapists' && entry.msg !== undefined) {
          say(`seed: ${entry.msg}`)
        }
      },
    },
  )
}

// ---------- 2. peers ----------

const peerKinds = [...new Set([...shapes.map((shape) => shape.peer), ...(withProfile ? [PROFILE_SHAPE.peer] : [])])]
let peers: Map<PeerKind, PeerResult> | null = null
let peerError: string | null = null
if (!args['skip-peers'] && peerKinds.length > 0) {
  say(`peers: ${peerKinds.map((kind) => `peer-${kind}`).join(', ')} via ${path.join(ANCHORS_DIR, 'anchor-bench.sh')}`)
  try {
    peers = await runPeers({
      anchorsDir: ANCHORS_DIR,
      kinds: peerKinds,
      tool: TOOL,
      seconds: SECONDS,
      warmup: WARMUP,
      connections: CONNECTIONS,
      databaseUrl: DATABASE_URL,
      outDir: path.join(OUT_DIR, 'anchors'),
      say,
    })
    for (const peer of peers.values()) say(`${peer.label}: ${fmtInt(peer.reqPerSec)} req/s, p50 ${fmtMs(peer.p50)} ms, p99 ${fmtMs(peer.p99)} ms`)
  } catch (error) {
    peerError = error instanceof Error ? error.message : String(error)
    say(`peers failed: ${peerError}`)
    peers = new Map()
  }
}
const peerFor = (kind: PeerKind): PeerResult | null | undefined => (peers === null ? undefined : (peers.get(kind) ?? null))

// ---------- 3. Therapath ----------

say('starting the service (node dist/server.js)')
const service = await startService({
  root: ROOT,
  databaseUrl: DATABASE_URL,
  client,
  logFile: args['service-log'],
  errorFile: path.join(OUT_DIR, 'service.stderr.log'),
  env: { FACET_CACHE_SECONDS: '0', ...SERVICE_ENV },
  // Generous: a readiness that waits for an in-process index is reported (and judged), not cut short.
  readyTimeoutSeconds: 600,
  say,
})
const memoryAtReady = service.memory()
say(`service pid ${service.pid}, RSS ${fmtMb(memoryAtReady?.rss)}`)


/** Request paths drawn per load (from the shape's equivalent variants), then sent in turn. */
const PATHS_PER_LOAD = 4000

const rows: JudgedRow[] = []
const dropped: string[] = []
const hitsOf = new Map<string, number>()

async function load(label: string, paths: string[], connections: number): Promise<LoadResult> {
  const headers = { authorization: await service.authorization() }
  const common = { tool: TOOL, base: service.base, paths, headers, workDir: OUT_DIR }
  if (WARMUP > 0) {
    await runLoad({ ...common, connections, seconds: WARMUP })
    await settle()
  }
  const result = await runLoad({ ...common, connections, seconds: SECONDS })
  say(
    `${label.padEnd(44)} ${fmtInt(result.reqPerSec).padStart(7)} req/s  p50 ${fmtMs(result.p50).padStart(7)}  p99 ${fmtMs(result.p99).padStart(7)} ms` +
      `  n ${result.requests}${result.errors > 0 ? `  ERRORS ${result.errors}` : ''}${result.requests < 20 ? '  (few requests: raise --seconds)' : ''}`,
  )
  await settle()
  return result
}

/**
 * Waits until the requests a load left in flight are done (the service keeps working on them after
 * the load tool hangs up), so they do not slow the next load: until /readyz, which takes a
 * connection from the same database pool, answers quickly twice in a row.
 */
async function settle(): Promise<void> {
  const deadline = performance.now() + 60_000
  for (let quick = 0; quick < 2 && performance.now() < deadline; ) {
    const started = performance.now()
    await fetch(`${service.base}/readyz`, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined)
    quick = performance.now() - started < 100 ? quick + 1 : 0
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

interface SearchBody {
  data: { id: string }[]
  facets: unknown
}

/** GET a search; its ids and facets, to compare. */
async function search(query: string): Promise<{ status: number; body: SearchBody | null; text: string }> {
  const res = await fetch(`${service.base}/v1/therapists?${query}`, { headers: { authorization: await service.authorization() } })
  const text = await res.text()
  return { status: res.status, body: res.ok ? (JSON.parse(text) as SearchBody) : null, text }
}

/**
 * Checks that every alternative value of a shape answers exactly what the canonical query answers
 * (same page, same facet counts); drops, with a warning, any that does not.
 */
async function equivalentAlternatives(shape: SearchShape): Promise<SearchShape> {
  const canonical = await search(shapeQuery(shape, true))
  if (!canonical.body) throw new Error(`${shape.name}: ${canonical.status} ${canonical.text.slice(0, 500)}`)
  hitsOf.set(shape.name, canonical.body.data.length)
  if (canonical.body.data.length === 0) say(`warning: ${shape.name} finds nothing`)
  const expected = JSON.stringify({ ids: canonical.body.data.map((hit) => hit.id), facets: canonical.body.facets })
  const alternatives: Record<string, string[]> = {}
  for (const [param, values] of Object.entries(shape.alternatives)) {
    alternatives[param] = []
    for (const value of values) {
      const query = new URLSearchParams(shape.query)
      query.set(param, value)
      const other = await search(shapeQuery({ query: query.toString(), alternatives: {} }, true))
      const same = other.body && JSON.stringify({ ids: other.body.data.map((hit) => hit.id), facets: other.body.facets }) === expected
      if (same) alternatives[param].push(value)
      else dropped.push(`${shape.name}: ${param}=${value} (${other.body ? 'answers differently' : `${other.status}`})`)
    }
  }
  return { ...shape, alternatives }
}

let memoryAtEnd: ReturnType<Service['memory']> = null
/** Shapes that could not be measured (the service refused them, or a load failed): each is a miss. */
const failures: string[] = []
try {
  for (const [index, listed] of shapes.entries()) {
    try {
      const shape = await equivalentAlternatives(listed)
      const random = prng(1000 + index)
      const paths = (facets: boolean) => Array.from({ length: PATHS_PER_LOAD }, () => `/v1/therapists?${shapeQuery(shape, facets, random)}`)
      const noFacets = await load(`${shape.name}, no facets, ${CONNECTIONS} conn`, paths(false), CONNECTIONS)
      const facetsSingle = await load(`${shape.name}, all facets, 1 client`, paths(true), 1)
      const facets = await load(`${shape.name}, all facets, ${CONNECTIONS} conn`, paths(true), CONNECTIONS)
      const row: ShapeRow = { name: shape.name, query: shape.query, peerKind: shape.peer, noFacets, facetsSingle, facets, peer: peerFor(shape.peer), hits: hitsOf.get(shape.name) ?? null }
      rows.push(judge(row))
    } catch (error) {
      failures.push(`${listed.name}: not measured (${error instanceof Error ? error.message : String(error)})`)
      say(`${listed.name} failed: ${failures.at(-1)}`)
    }
  }
  if (withProfile) {
    try {
      const check = await fetch(`${service.base}/v1/therapists/${ids[0] ?? ''}`, { headers: { authorization: await service.authorization() } })
      if (!check.ok) throw new Error(`${check.status} ${(await check.text()).slice(0, 500)}`)
      const random = prng(17)
      const profilePaths = Array.from({ length: PATHS_PER_LOAD }, () => `/v1/therapists/${ids[Math.floor(random() * ids.length)] ?? ''}`)
      const noFacets = await load(`profile by id, ${CONNECTIONS} conn`, profilePaths, CONNECTIONS)
      rows.push(judge({ name: PROFILE_SHAPE.name, query: `/v1/therapists/{id}, ${ids.length} random live ids`, peerKind: PROFILE_SHAPE.peer, noFacets, peer: peerFor(PROFILE_SHAPE.peer), hits: null }))
    } catch (error) {
      failures.push(`${PROFILE_SHAPE.name}: not measured (${error instanceof Error ? error.message : String(error)})`)
    }
  }
} finally {
  memoryAtEnd = service.memory()
  await service.stop()
}

// ---------- 4. the report ----------

const rowMisses = misses(rows, CONNECTIONS)
const otherMisses: string[] = [...failures]
const lines: string[] = []
lines.push(`Therapath at ${fmtInt(live)} live therapists; peers (anchor-server.mjs peer-*, Fastify 5 + pg) on their own 100,000-row bench_anchor.`)
lines.push(`${TOOL}, ${CONNECTIONS} connections (facets also 1 client), ${SECONDS} s per load after ${WARMUP} s of warm-up; load average before ${loadBefore.map((n) => n.toFixed(2)).join(' ')}, ${os.cpus().length} cores.`)
lines.push('')
lines.push(table(rows))
lines.push('')
if (seed) {
  const target = (SEED_SECONDS_PER_MILLION * seed.written) / 1_000_000
  const ok = seed.seconds <= target
  if (!ok) otherMisses.push(`seed: ${seed.seconds.toFixed(0)} s > ${target.toFixed(0)} s`)
  const extending = seed.existing > 0 ? `, ${fmtInt(seed.existing)} of them already there` : ''
  lines.push(`- Seed: ${fmtInt(seed.written)} therapists${extending} in ${seed.seconds.toFixed(1)} s (target ≤ ${SEED_SECONDS_PER_MILLION} s per 1,000,000: ≤ ${target.toFixed(0)} s here) ${ok ? 'PASS' : '**MISS**'}`)
} else {
  lines.push(`- Seed: reused (${fmtInt(live)} live therapists already there)`)
}
{
  const readySeconds = service.readiness.readyMs / 1000
  const ok = readySeconds <= READY_SECONDS
  if (!ok) otherMisses.push(`readiness: ${readySeconds.toFixed(1)} s > ${READY_SECONDS} s`)
  const index = service.readiness.index
  const indexText =
    index === null ? 'its /readyz reports no directoryIndex' : index.ms === null ? `directory index still "${index.state}" when measuring began` : `directory index "${index.state}" ${(index.ms / 1000).toFixed(1)} s after start`
  if (index !== null && index.ms === null) otherMisses.push(`directory index not ready (${index.state})`)
  lines.push(`- Readiness: /readyz 200 ${readySeconds.toFixed(1)} s after start (target ≤ ${READY_SECONDS} s) ${ok ? 'PASS' : '**MISS**'}; ${indexText}`)
}
lines.push(`- Service memory (VmRSS): ${fmtMb(memoryAtReady?.rss)} when ready, ${fmtMb(memoryAtEnd?.rss)} at the end, peak ${fmtMb(memoryAtEnd?.peak)} (VmHWM)`)
for (const t of tables) lines.push(`- Postgres ${t.name}: heap ${fmtMb(t.heap)}, TOAST ${fmtMb(t.toast)}, indexes ${fmtMb(t.indexes)}, total ${fmtMb(t.total)}`)
lines.push(`- Postgres indexes (shared_buffers ${sharedBuffers}): ${indexes.map((index) => `${index.name} ${fmtMb(index.bytes)}`).join(', ')}`)
lines.push(`- Cold requests: ${COLDNESS}.`)
if (dropped.length > 0) lines.push(`- Alternatives dropped (they answered differently from the canonical query): ${dropped.join('; ')}`)
if (Object.keys(SERVICE_ENV).length > 0) lines.push(`- Service settings added with --service-env: ${Object.entries(SERVICE_ENV).map(([name, value]) => `${name}=${value}`).join(' ')}`)
if (args['skip-peers']) lines.push('- Peers skipped: the throughput targets were not judged.')
if (peerError) lines.push(`- Peers failed: ${peerError}`)
const missed = [...rowMisses, ...otherMisses]
lines.push('')
lines.push(missed.length === 0 ? (args['skip-peers'] ? 'All judged targets met (throughput vs peer not judged: --skip-peers).' : 'All targets met.') : `MISSED (${missed.length}):\n${missed.map((line) => `  - ${line}`).join('\n')}`)
console.log(`\n${lines.join('\n')}`)

writeFileSync(
  path.join(OUT_DIR, 'results.json'),
  `${JSON.stringify(
    {
      at: new Date().toISOString(),
      options: { therapists: THERAPISTS, seconds: SECONDS, warmup: WARMUP, connections: CONNECTIONS, tool: TOOL, only: ONLY, skipPeers: args['skip-peers'], serviceEnv: SERVICE_ENV },
      machine: { cores: os.cpus().length, loadBefore, loadAfter: os.loadavg(), node: process.version },
      data: { live, seed },
      service: { readiness: service.readiness, memoryAtReady, memoryAtEnd },
      postgres: { tables, indexes },
      peers: peers ? Object.fromEntries(peers) : null,
      peerError,
      rows,
      dropped,
      missed,
    },
    null,
    2,
  )}\n`,
)
say(`raw results in ${path.relative(process.cwd(), path.join(OUT_DIR, 'results.json')) || '.bench/results.json'}`)
process.exit(missed.length > 0 ? 1 : 0)
