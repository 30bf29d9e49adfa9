import { generateKeyPairSync, randomBytes } from 'node:crypto'
import type { PGlite } from '@electric-sql/pglite'
import { inject } from 'vitest'
import { type Config, loadConfig } from '../../src/config.js'
import { type Database, MIGRATIONS_DIR, openEmbedded, openPostgres } from '../../src/db/database.js'
import { applyMigrations, readMigrations } from '../../src/db/migrations.js'
import { startPGlite } from '../../src/db/pglite.js'
import { adminQuery } from '../global-setup.js'

/**
 * Databases for tests: the run's shared, migrated database (Postgres when DATABASE_URL is set,
 * the embedded one otherwise), and empty scratch databases for tests of migrating itself.
 * Kept on globalThis so every test file in the worker reuses them.
 */

export const testDatabaseUrl = (): string => inject('testDatabaseUrl')
export const onPostgres = (): boolean => testDatabaseUrl() !== ''

interface TestDatabases {
  shared?: Promise<Database>
  /** An embedded database with nothing in it, cloned for each scratch database (cloning is faster than starting). */
  pristine?: Promise<PGlite>
}
const cache = ((globalThis as { __therapathTestDatabases?: TestDatabases }).__therapathTestDatabases ??= {})

/** One signing key for the whole run, as every instance of a deployment shares its keys. */
export const TEST_SIGNING_KEY = JSON.stringify({ ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: 'test-key-1' })

/** One journal encryption key for the whole run, likewise. */
export const TEST_JOURNAL_KEY = `test-journal-1:${randomBytes(32).toString('base64')}`

/**
 * The configuration tests run with: quiet, no demo data, the run's database, and rate limits
 * high enough for many tests from one IP (the rate-limit tests set their own).
 */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const url = testDatabaseUrl()
  return loadConfig({
    LOG_LEVEL: (process.env.TEST_LOG_LEVEL ?? 'silent'),
    DEMO_DATA: 'off',
    DATA_DIR: 'memory',
    AUTH_SIGNING_KEYS: TEST_SIGNING_KEY,
    JOURNAL_ENCRYPTION_KEYS: TEST_JOURNAL_KEY,
    RATE_LIMIT_MAX: '100000',
    RATE_LIMIT_AUTH_MAX: '100000',
    RATE_LIMIT_ACCOUNT_MAX: '100000',
    // The tests' identity provider serves its JWKS on 127.0.0.1.
    AUTH_ALLOW_PRIVATE_JWKS: 'true',
    ...(url ? { DATABASE_URL: url } : {}),
    ...overrides,
  })
}

/** The migrated database every HTTP test shares; tests keep apart by making uniquely keyed data. */
export function sharedDatabase(): Promise<Database> {
  cache.shared ??= (async () => {
    const db = onPostgres() ? openPostgres(testDatabaseUrl()) : await openEmbedded((await (await pristine()).clone()) as PGlite)
    await db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))
    return db
  })()
  return cache.shared
}

function pristine(): Promise<PGlite> {
  cache.pristine ??= startPGlite('memory')
  return cache.pristine
}

export interface ScratchDatabase {
  db: Database
  /** The connection URL on Postgres; undefined on the embedded backend. */
  url: string | undefined
  /** The PGlite instance on the embedded backend. */
  pglite: PGlite | undefined
  /** Makes the database unreachable, for readiness tests. */
  destroy(): Promise<void>
}

/** An empty, unmigrated database of the backend under test, gone after `destroy`. */
export async function scratchDatabase(): Promise<ScratchDatabase> {
  if (!onPostgres()) {
    const pglite = (await (await pristine()).clone()) as PGlite
    const db = await openEmbedded(pglite)
    return { db, url: undefined, pglite, destroy: () => db.close() }
  }
  const name = `therapath_scratch_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  await adminQuery(testDatabaseUrl(), `create database "${name}"`)
  const url = new URL(testDatabaseUrl())
  url.pathname = `/${name}`
  const db = openPostgres(url.toString())
  return {
    db,
    url: url.toString(),
    pglite: undefined,
    destroy: async () => {
      await adminQuery(testDatabaseUrl(), `drop database if exists "${name}" with (force)`)
      await db.close().catch(() => undefined)
    },
  }
}
