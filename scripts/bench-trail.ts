/**
 * `npm run bench:trail`: what the access trail costs a read. Through the real app (inject, no network),
 * one user with 200 journal entries: `GET /v1/journal/entries/{id}` and `GET /v1/journal/entries` (20 a
 * page), each recorded in the read's own transaction, against the same reads without a record (a route
 * this script adds, doing what the routes did before the trail: one query, then decryption). Runs the
 * two alternately, so both see the same machine. Prints figures; asserts nothing.
 * Uses the Postgres in DATABASE_URL (a fresh database is created and dropped) or an in-memory embedded one.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import pg from 'pg'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { MIGRATIONS_DIR, openDatabase } from '../src/db/database.js'
import { applyMigrations, readMigrations } from '../src/db/migrations.js'
import { currentUserId } from '../src/lib/principal.js'
import { toEntry } from '../src/modules/journal/journal-codec.js'
import { generateJournalKey, loadJournalKeys } from '../src/modules/journal/journal-keys.js'

const RUNS = Number(process.env.RUNS ?? 600)
const adminUrl = process.env.DATABASE_URL
let benchUrl: string | undefined
let dbName: string | undefined
if (adminUrl) {
  dbName = `therapath_bench_${Date.now().toString(36)}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`create database "${dbName}"`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${dbName}`
  benchUrl = url.toString()
}

const config = loadConfig({
  ...(benchUrl ? { DATABASE_URL: benchUrl } : {}),
  DATA_DIR: 'memory',
  LOG_LEVEL: 'silent',
  AUTH_SIGNING_KEYS: JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })),
  JOURNAL_ENCRYPTION_KEYS: generateJournalKey(),
  RATE_LIMIT_MAX: '10000000',
  RATE_LIMIT_AUTH_MAX: '1000000',
  RATE_LIMIT_ACCOUNT_MAX: '1000000',
  RETENTION_SWEEP_INTERVAL_MINUTES: '0',
})
const db = await openDatabase(config)
await db.withSession((s) => applyMigrations(s, readMigrations(MIGRATIONS_DIR)))
const keyring = loadJournalKeys(config)
const app = await buildApp(config, { db, journalKeys: keyring })
// The same reads without the trail: one query, as before it.
// Behind the same guard as the real routes (token check and session lookup), so only the trail differs.
const guarded = { config: { auth: { scope: 'journal:read' as const } } }
app.get('/bench/untrailed/:id', guarded, async (request) => {
  const { id } = request.params as { id: string }
  const userId = currentUserId(request)
  const row = await db.prisma.journalEntry.findFirst({ where: { id, userId } })
  return row ? toEntry(keyring, row) : null
})
app.get('/bench/untrailed', guarded, async (request) => {
  const userId = currentUserId(request)
  const rows = await db.prisma.journalEntry.findMany({ where: { userId }, orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }], take: 21 })
  return { data: rows.slice(0, 20).map((row) => toEntry(keyring, row)) }
})
await app.ready()

const reg = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: `bench-${randomUUID()}@example.com`, password: 'a long and personal passphrase' } })
const { user, accessToken } = reg.json<{ user: { id: string }; accessToken: string }>()
const headers = { authorization: `Bearer ${accessToken}` }
const ids: string[] = []
for (let i = 0; i < 200; i++) {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/journal/entries',
    headers,
    payload: { body: 'Today I noticed how quickly I went quiet when the plans changed. '.repeat(8), mood: 1 + (i % 10), tags: ['work'], occurredAt: new Date(Date.now() - i * 3600_000).toISOString() },
  })
  ids.push(res.json<{ id: string }>().id)
}

async function time(url: string): Promise<number> {
  const start = process.hrtime.bigint()
  const res = await app.inject({ method: 'GET', url, headers })
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}
const stats = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  return { p50: +at(0.5).toFixed(3), p95: +at(0.95).toFixed(3), mean: +(samples.reduce((s, x) => s + x, 0) / samples.length).toFixed(3) }
}

const results: Record<string, number[]> = { oneTrailed: [], oneUntrailed: [], listTrailed: [], listUntrailed: [] }
for (let warm = 0; warm < 50; warm++) {
  await time(`/v1/journal/entries/${ids[warm % ids.length]}`)
  await time(`/bench/untrailed/${ids[warm % ids.length]}`)
}
for (let i = 0; i < RUNS; i++) {
  const id = ids[i % ids.length]
  // Alternate which goes first, so neither always runs on a warmer cache.
  if (i % 2 === 0) {
    results.oneTrailed!.push(await time(`/v1/journal/entries/${id}`))
    results.oneUntrailed!.push(await time(`/bench/untrailed/${id}`))
  } else {
    results.oneUntrailed!.push(await time(`/bench/untrailed/${id}`))
    results.oneTrailed!.push(await time(`/v1/journal/entries/${id}`))
  }
  if (i % 4 === 0) {
    results.listTrailed!.push(await time('/v1/journal/entries?limit=20'))
    results.listUntrailed!.push(await time('/bench/untrailed'))
  }
}
const records = await db.prisma.accessRecord.count({ where: { chain: user.id } })
console.log(
  JSON.stringify(
    {
      database: db.kind,
      runs: RUNS,
      trailRecordsWritten: records,
      'GET /v1/journal/entries/{id} ms (with trail)': stats(results.oneTrailed!),
      'same read, no trail ms': stats(results.oneUntrailed!),
      'GET /v1/journal/entries?limit=20 ms (with trail)': stats(results.listTrailed!),
      'same list, no trail ms': stats(results.listUntrailed!),
    },
    null,
    2,
  ),
)
await app.close()
await db.close()
if (adminUrl && dbName) {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`drop database "${dbName}"`)
  await admin.end()
}
