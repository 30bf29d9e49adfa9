/**
 * `npm run bench:login`: what a login costs with the chosen Argon2id parameters (19 MiB, t=2, p=1),
 * through the real app (inject, no network), sequentially and 8 at a time. Prints figures; asserts nothing.
 * Uses the Postgres in DATABASE_URL (migrated first) or an in-memory embedded database.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { MIGRATIONS_DIR, openDatabase } from '../src/db/database.js'
import { applyMigrations, readMigrations } from '../src/db/migrations.js'
import { generateJournalKey } from '../src/modules/journal/journal-keys.js'

const key = JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }))
const config = loadConfig({
  ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  DATA_DIR: 'memory',
  LOG_LEVEL: 'silent',
  AUTH_SIGNING_KEYS: key,
  JOURNAL_ENCRYPTION_KEYS: generateJournalKey(),
  RATE_LIMIT_AUTH_MAX: '1000000',
  RATE_LIMIT_ACCOUNT_MAX: '1000000',
})
const db = await openDatabase(config)
await db.withSession((s) => applyMigrations(s, readMigrations(MIGRATIONS_DIR)))
const app = await buildApp(config, { db })

const email = `bench-${randomUUID()}@example.com`
const password = 'a long and personal passphrase'
await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password } })

const login = async (pass: string) => {
  const started = performance.now()
  const res = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: pass } })
  return { ms: performance.now() - started, status: res.statusCode }
}
const stats = (label: string, values: number[], wallMs: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]?.toFixed(1)
  console.log(`${label.padEnd(34)} n=${values.length}  p50=${at(0.5)} ms  p95=${at(0.95)} ms  max=${at(1)} ms  ${((values.length / wallMs) * 1000).toFixed(0)} logins/s`)
}

for (let i = 0; i < 5; i++) await login(password) // warm-up
for (const [label, pass] of [['login, right password', password], ['login, wrong password', 'wrong password!!']] as const) {
  const started = performance.now()
  const times: number[] = []
  for (let i = 0; i < 60; i++) times.push((await login(pass)).ms)
  stats(`${label} (sequential)`, times, performance.now() - started)
}
{
  const started = performance.now()
  const times: number[] = []
  for (let batch = 0; batch < 15; batch++) times.push(...(await Promise.all(Array.from({ length: 8 }, () => login(password)))).map((r) => r.ms))
  stats('login, right password (8 at once)', times, performance.now() - started)
}
await app.close()
await db.close()
