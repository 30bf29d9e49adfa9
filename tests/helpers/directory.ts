import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, expect } from 'vitest'
import type { z } from 'zod'
import { type App, buildApp } from '../../src/app.js'
import { type Database, MIGRATIONS_DIR } from '../../src/db/database.js'
import { applyMigrations, readMigrations } from '../../src/db/migrations.js'
import { type Therapist, type TherapistInputSchema, TherapistSchema } from '../../src/modules/directory/directory-schemas.js'
import { clientToken } from './auth.js'
import { type ScratchDatabase, scratchDatabase, testConfig } from './database.js'

export type TherapistInput = z.input<typeof TherapistInputSchema>

/** earthdistance's sphere (earth() = 6378168 m), so fixture distances are exact to the metre. */
export const EARTH_RADIUS_KM = 6378.168
export const CENTER = { latitude: 37.75, longitude: -122.42 }

/** The point `km` from `from` on a compass bearing (degrees), on earthdistance's sphere. */
export function pointAt(km: number, bearingDegrees: number, from = CENTER): { latitude: number; longitude: number } {
  const rad = Math.PI / 180
  const d = km / EARTH_RADIUS_KM
  const theta = bearingDegrees * rad
  const phi1 = from.latitude * rad
  const lambda1 = from.longitude * rad
  const phi2 = Math.asin(Math.sin(phi1) * Math.cos(d) + Math.cos(phi1) * Math.sin(d) * Math.cos(theta))
  const lambda2 = lambda1 + Math.atan2(Math.sin(theta) * Math.sin(d) * Math.cos(phi1), Math.cos(d) - Math.sin(phi1) * Math.sin(phi2))
  return { latitude: phi2 / rad, longitude: lambda2 / rad }
}

export function distanceKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const rad = Math.PI / 180
  const dLat = (b.latitude - a.latitude) * rad
  const dLon = (b.longitude - a.longitude) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(h))
}

/** Sends requests as a curator app (directory:read and directory:write) unless a test sets its own authorization. */
export interface CuratorClient {
  inject(options: InjectOptions): Promise<LightMyRequestResponse>
  /** The app itself, for requests with other credentials or none. */
  raw: App
}

/**
 * A migrated database of its own and the app on it, so no other test's rows change the counts.
 * Requests go out with a curator app's token; the scope tests use `raw` to send others.
 */
export function isolatedDirectory(config: Record<string, string> = {}): { app: () => CuratorClient; scratch: () => ScratchDatabase } {
  let app: CuratorClient | undefined
  let scratch: ScratchDatabase | undefined
  beforeAll(async () => {
    scratch = await scratchDatabase()
    await scratch.db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))
    const raw = await buildApp(testConfig(config), { db: scratch.db })
    await raw.ready()
    await indexSettled(raw)
    const token = await clientToken(raw, ['directory:read', 'directory:write'])
    app = {
      raw,
      inject: (options) => raw.inject({ ...options, headers: { authorization: `Bearer ${token}`, ...options.headers } }),
    }
  })
  afterAll(async () => {
    await app?.raw.close()
    await scratch?.destroy()
  })
  return {
    app: () => {
      if (!app) throw new Error('app not built yet')
      return app
    },
    scratch: () => {
      if (!scratch) throw new Error('database not ready yet')
      return scratch
    },
  }
}

export async function createTherapist(app: Pick<App, 'inject'> | CuratorClient, input: TherapistInput): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/therapists', payload: input })
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`)
  const body: { id: string } = res.json()
  return body.id
}

/**
 * A profile body parsed with the documented schema, refusing any member the schema does not list
 * (the body is JSON built by Postgres, so nothing else guards its shape). Not `.strict()`: a derived
 * schema would carry the component id into the global registry and change the OpenAPI output.
 */
export function parseProfile(body: unknown): Therapist {
  const profile = TherapistSchema.parse(body)
  expect(Object.keys(body as object).sort()).toEqual(Object.keys(TherapistSchema.shape).sort())
  return profile
}

/** Waits until the directory index (when on) has been built, so searches go through it. */
export async function indexSettled(app: Pick<App, 'inject'>): Promise<void> {
  for (let attempt = 0; attempt < 2400; attempt += 1) {
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    // 503 while the first build runs (within DIRECTORY_INDEX_READY_WAIT_SECONDS): not settled yet.
    if (res.statusCode === 200) {
      const body = res.json<{ directoryIndex?: { state: string } }>()
      if (body.directoryIndex === undefined || body.directoryIndex.state === 'ready' || body.directoryIndex.state === 'off') return
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error('the directory index did not become ready')
}

/** How many searches each engine answered so far (from /metrics). */
export async function searchesByEngine(app: Pick<App, 'inject'>): Promise<{ index: number; sql: number }> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  const count = (engine: string) => Number(new RegExp(`therapath_directory_searches_total\\{engine="${engine}"\\} (\\d+)`).exec(text)?.[1] ?? 0)
  return { index: count('index'), sql: count('sql') }
}

/** An empty scratch database of the backend under test, migrated (drop it with `destroy`). */
export async function migratedScratch(): Promise<ScratchDatabase> {
  const scratch = await scratchDatabase()
  await scratch.db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))
  return scratch
}

/**
 * One more instance of the app on a database a test already has (several instances share one database
 * in production), sending a curator's token; its directory index, when on, has settled. Close it with `raw.close()`.
 */
export async function curatorApp(db: Database, config: Record<string, string> = {}): Promise<CuratorClient> {
  const raw = await buildApp(testConfig(config), { db })
  await raw.ready()
  await indexSettled(raw)
  const token = await clientToken(raw, ['directory:read', 'directory:write'])
  return { raw, inject: (options) => raw.inject({ ...options, headers: { authorization: `Bearer ${token}`, ...options.headers } }) }
}
