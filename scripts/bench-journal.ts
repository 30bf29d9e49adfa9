/**
 * `npm run bench:journal`: list and insights latency for a user with 5,000 journal entries, through the
 * real app (inject, no network), among 10 other users with 1,000 entries each. Entries are sealed like
 * real ones (the list decrypts every row it returns). Prints figures; asserts nothing.
 * Uses the Postgres in DATABASE_URL (a fresh database is created and dropped) or an in-memory embedded one.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import pg from 'pg'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { MIGRATIONS_DIR, openDatabase } from '../src/db/database.js'
import { applyMigrations, readMigrations } from '../src/db/migrations.js'
import { generateJournalKey, loadJournalKeys } from '../src/modules/journal/journal-keys.js'
import { toColumns } from '../src/modules/journal/journal-codec.js'
import { CONFLICT_RESPONSE_VALUES, EMOTIONS } from '../src/modules/journal/journal-vocabulary.js'

const ENTRIES = 5_000
const OTHER_USERS = 10
const OTHER_ENTRIES = 1_000
const RUNS = 60

const adminUrl = process.env.DATABASE_URL
let benchUrl: string | undefined
if (adminUrl) {
  const name = `therapath_bench_${Date.now().toString(36)}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`create database "${name}"`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
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
})
const db = await openDatabase(config)
await db.withSession((s) => applyMigrations(s, readMigrations(MIGRATIONS_DIR)))
const keyring = loadJournalKeys(config)
const app = await buildApp(config, { db, journalKeys: keyring })

// A deterministic pseudo-random sequence, so both backends get the same data.
let seed = 42
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31)
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
const TAGS = ['work', 'family', 'weekend', 'therapy', 'sleep', 'money', 'friends', 'holiday', 'health', 'in-laws', 'kids', 'chores', 'phone', 'plans', 'exercise']
const SENTENCE = 'Today I noticed how quickly I went quiet when the plans changed, and I tried to say what I needed instead. '

async function register(): Promise<{ id: string; headers: { authorization: string } }> {
  const res = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: `bench-${randomUUID()}@example.com`, password: 'a long and personal passphrase' } })
  const body = res.json<{ user: { id: string }; accessToken: string }>()
  return { id: body.user.id, headers: { authorization: `Bearer ${body.accessToken}` } }
}

/** `count` entries over the last three years, about a third with a conflict part. */
async function seedEntries(userId: string, count: number): Promise<void> {
  const span = 3 * 365 * 24 * 3_600_000
  const now = Date.now()
  for (let done = 0; done < count; done += 500) {
    const data = Array.from({ length: Math.min(500, count - done) }, () => {
      const id = randomUUID()
      const conflict = random() < 0.35
      return {
        id,
        userId,
        ...toColumns(keyring, id, userId, {
          body: SENTENCE.repeat(2 + Math.floor(random() * 10)),
          title: random() < 0.5 ? 'An evening' : null,
          mood: 1 + Math.floor(random() * 10),
          emotions: [...new Set(Array.from({ length: Math.floor(random() * 4) }, () => pick(EMOTIONS)))],
          tags: [...new Set(Array.from({ length: Math.floor(random() * 4) }, () => pick(TAGS)))],
          occurredAt: new Date(now - Math.floor(random() * span)),
          conflict: conflict
            ? { trigger: 'Plans changed at the last minute.', response: pick(CONFLICT_RESPONSE_VALUES), responseNote: null, outcome: 'We talked later.', intensity: 1 + Math.floor(random() * 10) }
            : null,
        }),
      }
    })
    await db.prisma.journalEntry.createMany({ data })
  }
}

const seedStarted = performance.now()
const user = await register()
await seedEntries(user.id, ENTRIES)
for (let i = 0; i < OTHER_USERS; i++) await seedEntries((await register()).id, OTHER_ENTRIES)
// The steady state autovacuum keeps a live table in: statistics and a visibility map (index-only scans).
if (db.kind === 'postgres') await db.query('vacuum analyze journal_entries')
console.log(`${db.kind}: seeded ${ENTRIES} entries for the user and ${OTHER_USERS * OTHER_ENTRIES} for others in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`)

const timeOne = async (url: string) => {
  const started = performance.now()
  const res = await app.inject({ method: 'GET', url, headers: user.headers })
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
  return { ms: performance.now() - started, body: res.json<{ page?: { nextCursor: string | null }; data?: unknown[] }>(), bytes: res.body.length }
}
const stats = (label: string, values: number[], extra = '') => {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]?.toFixed(1)
  console.log(`${label.padEnd(58)} n=${String(values.length).padStart(3)}  p50=${at(0.5)?.padStart(6)} ms  p95=${at(0.95)?.padStart(6)} ms${extra}`)
}
async function bench(label: string, url: string) {
  for (let i = 0; i < 5; i++) await timeOne(url) // warm-up
  const times: number[] = []
  let bytes = 0
  for (let i = 0; i < RUNS; i++) {
    const run = await timeOne(url)
    times.push(run.ms)
    bytes = run.bytes
  }
  stats(label, times, `  (${(bytes / 1024).toFixed(1)} KiB)`)
}

await bench('list, first page (20)', '/v1/journal/entries')
await bench('list, first page (100)', '/v1/journal/entries?limit=100')
{
  // Every page of the whole journal, 100 at a time: later pages must cost what the first does.
  const times: number[] = []
  let cursor: string | null | undefined
  let pages = 0
  do {
    const run = await timeOne(`/v1/journal/entries?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
    times.push(run.ms)
    cursor = run.body.page?.nextCursor
    pages++
  } while (cursor)
  stats(`list, walking all ${pages} pages of 100`, times)
}
await bench('list, tag=work (20)', '/v1/journal/entries?tag=work')
await bench('list, emotion=anxious&emotion=hurt (20)', '/v1/journal/entries?emotion=anxious&emotion=hurt')
await bench('list, conflictResponse=withdrew,paused&moodMax=4 (20)', '/v1/journal/entries?conflictResponse=withdrew,paused&moodMax=4')
await bench('list, one month by dates in a zone (20)', `/v1/journal/entries?from=${new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 10)}&to=${new Date(Date.now() - 370 * 86_400_000).toISOString().slice(0, 10)}&tz=Europe/Berlin`)
await bench('insights, default (12 weeks)', '/v1/journal/insights')
await bench('insights, 12 months by month, Europe/Berlin', '/v1/journal/insights?bucket=month&tz=Europe/Berlin')
await bench('insights, 3 years by week (157 buckets), America/New_York', `/v1/journal/insights?bucket=week&tz=America/New_York&from=${new Date(Date.now() - 3 * 365 * 86_400_000).toISOString().slice(0, 10)}`)
{
  const url = '/v1/journal/insights?bucket=month&tz=Europe/Berlin'
  const times: number[] = []
  for (let batch = 0; batch < 10; batch++) times.push(...(await Promise.all(Array.from({ length: 8 }, () => timeOne(url)))).map((r) => r.ms))
  stats('insights, 12 months by month, 8 at once', times)
}

await app.close()
await db.close()
if (adminUrl && benchUrl) {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`drop database if exists "${new URL(benchUrl).pathname.slice(1)}" with (force)`)
  await admin.end()
}
