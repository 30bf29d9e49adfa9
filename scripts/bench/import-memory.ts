/**
 * `npm run bench:import [-- options]`: does an NDJSON import run in constant memory (issue 10, target 4)?
 *
 * Generates two NDJSON files with the project's generator (10,000 and 50,000 lines by default, new
 * therapists each run), and for each one starts the built service afresh (normal configuration, an app
 * token with directory:write), imports a few hundred lines to warm it up, then POSTs the file to
 * /v1/therapists/import while sampling the service's RSS every 100 ms. Prints the import time and the
 * peak RSS above the baseline for each, and judges flatness: the extra lines of the large import may
 * add at most --max-bytes-per-line of peak memory each (the report the service returns lists every
 * line, so a little per line is expected; buffering the body or the parsed lines costs several KB per
 * line). Exits 1 when memory grows with the number of lines or an import fails. The imported
 * therapists and the files are deleted afterwards (and the tables vacuumed) unless --keep.
 *
 * Uses the Postgres in DATABASE_URL (or --database-url), migrated first.
 *
 * The service runs with its heap capped (--heap-mb, default 256 MB, as a container's memory limit would
 * cap it): without a cap V8 lets garbage pile up while memory is plentiful (measured: +3.4 KB of RSS a
 * line uncapped, +0.9 KB capped), and the peak RSS then says more about the collector than about what the
 * import keeps. What it does keep grows by line, by design: the report has an entry per line, and every
 * therapist created joins the directory index.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { MIGRATIONS_DIR, openPostgres } from '../../src/db/database.js'
import { applyMigrations, readMigrations } from '../../src/db/migrations.js'
import { createApiClient } from '../../src/modules/auth/clients-service.js'
import { IMPORT_MAX_BYTES } from '../../src/modules/directory/therapist-import.js'
import { postalCodes } from '../../src/modules/directory/postal-codes.js'
import { generateTherapist, geoPool } from '../../src/modules/directory/therapist-generator.js'
import { fmtInt, fmtMb } from './report.js'
import { optionsOrExit } from './cli.js'
import { type Service, startService } from './service.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const OUT_DIR = path.join(ROOT, '.bench')
const WARMUP_LINES = 2000
const SAMPLE_MS = 100

const USAGE = `npm run bench:import -- [--lines 50000] [--small 10000] [--max-bytes-per-line 1024] [--database-url URL] [--keep] [--heap-mb 256] [--service-env NAME=value …]`
const { values: args, fail: usageError, whole } = optionsOrExit(
  () =>
    parseArgs({
      options: {
        lines: { type: 'string', default: '50000' },
        small: { type: 'string', default: '10000' },
        'max-bytes-per-line': { type: 'string', default: '1024' },
        'database-url': { type: 'string' },
        keep: { type: 'boolean', default: false },
        'service-env': { type: 'string', multiple: true, default: [] },
        'heap-mb': { type: 'string', default: '256' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }),
  USAGE,
)
const LARGE = whole('lines', args.lines, 2, 1_000_000)
const SMALL = whole('small', args.small, 1, LARGE - 1)
const MAX_BYTES_PER_LINE = whole('max-bytes-per-line', args['max-bytes-per-line'], 0, 1_000_000)
const DATABASE_URL = args['database-url'] ?? process.env.DATABASE_URL ?? usageError('Set DATABASE_URL (or --database-url) to a benchmark database')
const say = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)
mkdirSync(OUT_DIR, { recursive: true })

// New external ids each run, so every line creates a therapist (the same work every time), and the
// clean-up finds exactly this run's rows.
const RUN = randomBytes(4).toString('hex')
const PREFIX = `bench-import-${RUN}-`
const notes: string[] = []

const db = openPostgres(DATABASE_URL, { poolSize: 2 })
await db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))
const client = await createApiClient(db.prisma, { name: `bench import ${new Date().toISOString()}`, scopes: ['directory:write'] })

// ---------- the files ----------

const pool = geoPool(await postalCodes())
/**
 * Writes `count` generated therapists as TherapistCreate lines. Null fields are left out (null means
 * "not given" in TherapistCreate). If the file would still exceed the import's byte limit, lines also
 * leave out acceptingNewClientsVerifiedAt (it then defaults to the time of the write), and a note says so.
 */
async function writeNdjson(file: string, tag: string, count: number, seed: number): Promise<number> {
  const line = (index: number, slim: boolean) => {
    const therapist: Record<string, unknown> = { ...generateTherapist(pool, seed, index), externalId: `${PREFIX}${tag}-${index + 1}` }
    if (slim) delete therapist.acceptingNewClientsVerifiedAt
    return `${JSON.stringify(therapist, (_key, value: unknown) => (value === null ? undefined : value))}\n`
  }
  let estimate = 0
  for (let index = 0; index < count; index += 1) estimate += Buffer.byteLength(line(index, false))
  const slim = estimate > IMPORT_MAX_BYTES
  if (slim) {
    notes.push(
      `${fmtInt(count)} generated lines are ${fmtMb(estimate)} (${Math.round(estimate / count)} B a line), over the import limit of ${fmtMb(IMPORT_MAX_BYTES)}: ` +
        'its lines leave out acceptingNewClientsVerifiedAt (defaults to the time of the write) to fit',
    )
  }
  const out = createWriteStream(file)
  for (let index = 0; index < count; index += 1) {
    if (!out.write(line(index, slim))) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject)
    out.end(() => resolve())
  })
  return statSync(file).size
}

// ---------- the import ----------

interface ImportOutcome {
  status: number
  ms: number
  summary: Record<string, unknown> | null
  text: string
}

async function postFile(service: Service, file: string): Promise<ImportOutcome> {
  const authorization = await service.authorization()
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${service.base}/v1/therapists/import`,
      { method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'content-length': statSync(file).size, authorization } },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (text += chunk))
        response.on('end', () => {
          const ms = performance.now() - started
          let summary: Record<string, unknown> | null = null
          try {
            summary = (JSON.parse(text) as { summary?: Record<string, unknown> }).summary ?? null
          } catch {
            // not JSON: reported below
          }
          resolve({ status: response.statusCode ?? 0, ms, summary, text: summary ? '' : text.slice(0, 500) })
        })
      },
    )
    request.on('error', reject)
    createReadStream(file).on('error', reject).pipe(request)
  })
}

interface Measured {
  lines: number
  bytes: number
  baseline: number
  peak: number
  growth: number
  outcome: ImportOutcome
}

/** A fresh service, warmed up with a small import, then the file, its RSS sampled all along. */
async function measure(file: string, lines: number, bytes: number, warmupFile: string): Promise<Measured> {
  const env = {
    NODE_OPTIONS: `--max-old-space-size=${Number(args['heap-mb'])}`,
    ...Object.fromEntries((args['service-env'] ?? []).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
  }
  const service = await startService({ root: ROOT, databaseUrl: DATABASE_URL, client, env, errorFile: path.join(OUT_DIR, 'service.stderr.log'), say })
  try {
    const warm = await postFile(service, warmupFile)
    if (warm.status !== 200) throw new Error(`warm-up import: ${warm.status} ${warm.text}`)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const baseline = service.memory()?.rss ?? NaN
    let peak = baseline
    const timer = setInterval(() => {
      const rss = service.memory()?.rss
      if (rss !== undefined && rss > peak) peak = rss
    }, SAMPLE_MS)
    const outcome = await postFile(service, file).finally(() => clearInterval(timer))
    const last = service.memory()?.rss
    if (last !== undefined && last > peak) peak = last
    return { lines, bytes, baseline, peak, growth: peak - baseline, outcome }
  } finally {
    await service.stop()
  }
}

const results: Measured[] = []
let failed = false
const warmupFiles: string[] = []
const files: { file: string; lines: number; bytes: number }[] = []
try {
  for (const [tag, count] of [['s', SMALL], ['l', LARGE]] as const) {
    const warmupFile = path.join(OUT_DIR, `import-warmup-${tag}.ndjson`)
    await writeNdjson(warmupFile, `${tag}w`, WARMUP_LINES, tag === 's' ? 1001 : 1002)
    warmupFiles.push(warmupFile)
    const file = path.join(OUT_DIR, `import-${count}.ndjson`)
    files.push({ file, lines: count, bytes: await writeNdjson(file, tag, count, tag === 's' ? 2001 : 2002) })
  }
  for (const [i, { file, lines, bytes }] of files.entries()) {
    say(`importing ${fmtInt(lines)} lines (${fmtMb(bytes)})`)
    const result = await measure(file, lines, bytes, warmupFiles[i] ?? '')
    results.push(result)
    const { outcome } = result
    const summary = outcome.summary
    const complete = summary?.complete === true
    const rejected = Number(summary?.rejected ?? 0)
    if (outcome.status !== 200 || !complete || rejected > 0) failed = true
    say(
      `${fmtInt(lines)} lines: ${outcome.status} in ${(outcome.ms / 1000).toFixed(1)} s (${fmtInt((lines / outcome.ms) * 1000)} lines/s), ` +
        `RSS ${fmtMb(result.baseline)} before, peak ${fmtMb(result.peak)} (+${fmtMb(result.growth)}); ` +
        (summary ? JSON.stringify(summary) : outcome.text),
    )
  }
} finally {
  if (!args.keep) {
    for (const file of [...warmupFiles, ...files.map((item) => item.file)]) rmSync(file, { force: true })
    const deleted = await db.query<{ n: number }>(`WITH gone AS (DELETE FROM therapist WHERE external_id LIKE $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`, [`${PREFIX}%`])
    // Dead rows would slow every later search of this database (a benchmark's) until autovacuum came by.
    await db.query('VACUUM ANALYZE therapist')
    await db.query('VACUUM ANALYZE therapist_office')
    say(`deleted the ${fmtInt(deleted[0]?.n ?? 0)} therapists this run imported, and vacuumed`)
  }
  await db.close()
}

const [small, large] = results
if (!small || !large) process.exit(1)
const perLine = (large.growth - small.growth) / (large.lines - small.lines)
const flat = perLine <= MAX_BYTES_PER_LINE
console.log(`
| lines | body | import time | lines/s | RSS before | peak RSS | peak above baseline |
|---:|---:|---:|---:|---:|---:|---:|
${results
  .map((r) => `| ${fmtInt(r.lines)} | ${fmtMb(r.bytes)} | ${(r.outcome.ms / 1000).toFixed(1)} s | ${fmtInt((r.lines / r.outcome.ms) * 1000)} | ${fmtMb(r.baseline)} | ${fmtMb(r.peak)} | ${fmtMb(r.growth)} |`)
  .join('\n')}

- Memory per extra line: ${fmtInt(perLine)} B (${fmtMb(large.growth - small.growth)} more peak for ${fmtInt(large.lines - small.lines)} more lines; limit ${fmtInt(MAX_BYTES_PER_LINE)} B a line) ${flat ? 'FLAT PASS' : '**GROWS: MISS**'}
- RSS sampled every ${SAMPLE_MS} ms from /proc/<pid>/status; each import on a freshly started service after a ${WARMUP_LINES}-line warm-up import.${notes.map((note) => `\n- ${note}`).join('')}${failed ? '\n- **An import failed or was incomplete** (see above).' : ''}`)
process.exit(flat && !failed ? 0 : 1)
