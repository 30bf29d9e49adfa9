/**
 * `npm run bench:webhooks [-- options]`: what the change log and webhooks cost an import, and how fast
 * deliveries go out (issue 14).
 *
 * In one process, on the Postgres in DATABASE_URL (or --database-url; use a database of its own, it is
 * migrated and written to): the app listening on a local port, one webhook endpoint subscribed to every
 * event on a local receiver that verifies each signature, and NDJSON imports of --lines generated new
 * therapists (50,000 by default) through HTTP. Rounds alternate an import with the outbox triggers
 * disabled (`ALTER TABLE … DISABLE TRIGGER`: no events, nothing to deliver) and one with them (events,
 * and the delivery worker sending them while the import runs), so both see the same machine state.
 *
 * A third import per round keeps the outbox on but pauses the endpoint (PATCH active: false) until the
 * import is done, separating what the triggers cost from what sending 50,000 messages at the same time
 * on the same cores costs; resuming it then measures how fast a backlog drains.
 *
 * Prints each import's time, the median slowdown with the outbox (target ≤ 15 %), and the delivery
 * throughput (messages a second, first to last) and lag (event commit → received: p50, p99, max). The
 * directory index is off (DIRECTORY_INDEX=off) so the figures are the write path's.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { verifyWebhook } from '../examples/webhook-receiver.js'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { MIGRATIONS_DIR, openPostgres } from '../src/db/database.js'
import { applyMigrations, readMigrations } from '../src/db/migrations.js'
import { createApiClient } from '../src/modules/auth/clients-service.js'
import { generateSigningJwk } from '../src/modules/auth/keys.js'
import { postalCodes } from '../src/modules/directory/postal-codes.js'
import { generateTherapist, geoPool } from '../src/modules/directory/therapist-generator.js'
import { generateJournalKey } from '../src/modules/journal/journal-keys.js'
import { optionsOrExit } from './bench/cli.js'

const USAGE = 'npm run bench:webhooks -- [--lines 50000] [--rounds 2] [--database-url URL]'
const { values: args, fail, whole } = optionsOrExit(
  () =>
    parseArgs({
      options: {
        lines: { type: 'string', default: '50000' },
        rounds: { type: 'string', default: '2' },
        'database-url': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }),
  USAGE,
)
const LINES = whole('lines', args.lines, 100, 50_000)
const ROUNDS = whole('rounds', args.rounds, 1, 10)
const DATABASE_URL = args['database-url'] ?? process.env.DATABASE_URL ?? fail('Set DATABASE_URL (or --database-url) to a benchmark database')
const OUT_DIR = path.resolve(import.meta.dirname, '..', '.bench')
const RUN = randomBytes(4).toString('hex')
const say = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)
const TRIGGERS = ['therapist_event_insert', 'therapist_event_update', 'therapist_event_delete']

mkdirSync(OUT_DIR, { recursive: true })
const db = openPostgres(DATABASE_URL, { poolSize: 10 })
await db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))

const config = loadConfig({
  DATABASE_URL,
  LOG_LEVEL: 'warn',
  AUTH_SIGNING_KEYS: JSON.stringify(await generateSigningJwk()),
  JOURNAL_ENCRYPTION_KEYS: generateJournalKey(),
  RATE_LIMIT_MAX: '1000000000',
  DIRECTORY_INDEX: 'off',
  WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  WEBHOOK_DELIVERY_INTERVAL_MS: '100',
  RETENTION_SWEEP_INTERVAL_MINUTES: '0',
})
const app = await buildApp(config, { db })
await app.listen({ port: 0, host: '127.0.0.1' })
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

const client = await createApiClient(db.prisma, { name: `bench webhooks ${RUN}`, scopes: ['directory:read', 'directory:write', 'webhooks:write'] })
const tokenResponse = await fetch(`${base}/v1/oauth/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
})
const authorization = `Bearer ${((await tokenResponse.json()) as { access_token: string }).access_token}`

// ---------- the receiver ----------

const received: { at: number; occurred: number }[] = []
let rejected = 0
let secret = ''
const receiver = http.createServer((request, response) => {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    try {
      const event = verifyWebhook(secret, request.headers, Buffer.concat(chunks).toString('utf8'))
      received.push({ at: Date.now(), occurred: Date.parse(event.timestamp) })
      response.writeHead(204).end()
    } catch {
      rejected += 1
      response.writeHead(401).end()
    }
  })
})
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
const hook = await fetch(`${base}/v1/webhooks`, {
  method: 'POST',
  headers: { authorization, 'content-type': 'application/json' },
  body: JSON.stringify({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` }),
})
const created = (await hook.json()) as { id: string; secret: string }
secret = created.secret

// ---------- imports ----------

const pool = geoPool(await postalCodes())
async function writeFile(tag: string, lines = LINES): Promise<string> {
  const file = path.join(OUT_DIR, `webhooks-${RUN}-${tag}.ndjson`)
  const out = createWriteStream(file)
  for (let index = 0; index < lines; index += 1) {
    const therapist: Record<string, unknown> = { ...generateTherapist(pool, 14, index), externalId: `bench-hooks-${RUN}-${tag}-${index}` }
    delete therapist.acceptingNewClientsVerifiedAt
    const line = `${JSON.stringify(therapist, (_key, value: unknown) => (value === null ? undefined : value))}\n`
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve) => out.end(() => resolve()))
  return file
}

async function importFile(file: string): Promise<{ ms: number; created: number }> {
  const started = performance.now()
  const text = await new Promise<string>((resolve, reject) => {
    const request = http.request(
      `${base}/v1/therapists/import`,
      { method: 'POST', headers: { authorization, 'content-type': 'application/x-ndjson', 'content-length': statSync(file).size } },
      (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (body += chunk))
        response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`import: HTTP ${response.statusCode}: ${body.slice(0, 300)}`))))
      },
    )
    request.on('error', reject)
    createReadStream(file).pipe(request)
  })
  const ms = performance.now() - started
  return { ms, created: (JSON.parse(text) as { summary: { created: number } }).summary.created }
}

const setTriggers = (on: boolean) => db.query(`ALTER TABLE therapist ${TRIGGERS.map((name) => `${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${name}`).join(', ')}`)

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}
const median = (values: number[]) => percentile(values, 50)

type Mode = 'without' | 'with' | 'paused'
const MODES: readonly Mode[] = ['without', 'with', 'paused']
const LABELS: Record<Mode, string> = { without: 'without outbox', with: 'with outbox, delivering meanwhile', paused: 'with outbox, endpoint paused' }
const times: Record<Mode, number[]> = { without: [], with: [], paused: [] }
const setActive = (active: boolean) =>
  fetch(`${base}/v1/webhooks/${created.id}`, { method: 'PATCH', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ active }) })
const deliveryRows: string[] = []
const files: string[] = []
try {
  // Warm-up: the first import of a process pays for compiling and caching; it counts in neither column.
  say('warm-up import (2,000 lines)…')
  const warm = await writeFile('warm', 2000)
  files.push(warm)
  await setTriggers(false)
  await importFile(warm)

  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const mode of MODES) {
      const file = await writeFile(`${round}-${mode}`)
      files.push(file)
      await setTriggers(mode !== 'without')
      if (mode === 'paused') await setActive(false)
      await db.query('CHECKPOINT')
      const before = received.length
      const { ms, created: count } = await importFile(file)
      times[mode].push(ms)
      say(`round ${round}, ${LABELS[mode]}: ${count.toLocaleString('en-US')} therapists imported in ${(ms / 1000).toFixed(2)} s`)
      if (mode === 'paused') {
        const resumed = Date.now()
        await setActive(true)
        const deadline = Date.now() + 600_000
        while (received.length - before < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
        const row = `round ${round}, backlog after a paused import: ${(received.length - before).toLocaleString('en-US')} messages drained in ${((Date.now() - resumed) / 1000).toFixed(1)} s (${Math.round(((received.length - before) * 1000) / Math.max(1, Date.now() - resumed)).toLocaleString('en-US')} messages/s)`
        deliveryRows.push(row)
        say(row)
      }
      if (mode === 'with') {
        // Wait for every event of this import to arrive (at most 10 minutes).
        const deadline = Date.now() + 600_000
        while (received.length - before < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
        const batch = received.slice(before)
        const first = Math.min(...batch.map((entry) => entry.at))
        const last = Math.max(...batch.map((entry) => entry.at))
        const lags = batch.map((entry) => entry.at - entry.occurred)
        const row =
          `round ${round}, delivering during the import: ${batch.length.toLocaleString('en-US')} of ${count.toLocaleString('en-US')} delivered, ` +
          `${Math.round(batch.length / Math.max(0.001, (last - first) / 1000)).toLocaleString('en-US')} messages/s (first to last), ` +
          `lag p50 ${(median(lags) / 1000).toFixed(2)} s, p99 ${(percentile(lags, 99) / 1000).toFixed(2)} s, max ${(Math.max(...lags) / 1000).toFixed(2)} s; ` +
          `all received ${((last - (batch[0]?.occurred ?? last)) / 1000).toFixed(1)} s after the import began`
        deliveryRows.push(row)
        say(row)
      }
    }
  }
} finally {
  await setTriggers(true).catch(() => undefined)
  for (const file of files) rmSync(file, { force: true })
}

const without = median(times.without)
console.log(`\n## bench:webhooks: ${LINES.toLocaleString('en-US')}-line import, one subscribed receiver, ${ROUNDS} round(s)\n`)
console.log('| import | ' + Array.from({ length: ROUNDS }, (_, n) => `round ${n + 1}`).join(' | ') + ' | median | vs without |')
console.log('|---|' + '---:|'.repeat(ROUNDS + 2))
for (const mode of MODES) {
  const slowdown = (median(times[mode]) / without - 1) * 100
  console.log(
    `| ${LABELS[mode]} | ${times[mode].map((ms) => `${(ms / 1000).toFixed(2)} s`).join(' | ')} | ${(median(times[mode]) / 1000).toFixed(2)} s | ` +
      `${mode === 'without' ? '' : `${slowdown >= 0 ? '+' : ''}${slowdown.toFixed(1)} %`} |`,
  )
}
const outboxCost = (median(times.paused) / without - 1) * 100
const liveCost = (median(times.with) / without - 1) * 100
console.log(`\nThe outbox itself (endpoint paused): ${outboxCost >= 0 ? '+' : ''}${outboxCost.toFixed(1)} % (target ≤ 15 %): ${outboxCost <= 15 ? 'met' : 'NOT met'}`)
console.log(`With the outbox and ${LINES.toLocaleString('en-US')} deliveries sent meanwhile from the same process and cores: ${liveCost >= 0 ? '+' : ''}${liveCost.toFixed(1)} %`)
console.log('\nDelivery:')
for (const row of deliveryRows) console.log(`- ${row}`)
if (rejected > 0) console.log(`- ${rejected} messages failed signature verification`)

await fetch(`${base}/v1/webhooks/${created.id}`, { method: 'DELETE', headers: { authorization } })
await app.close()
receiver.close()
await db.query(`DELETE FROM therapist WHERE external_id LIKE $1`, [`bench-hooks-${RUN}-%`])
await db.close()
