import { randomUUID } from 'node:crypto'
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, buildApp } from '../../src/app.js'
import type { ChangeEvent } from '../../src/db/change-feed.js'
import { TherapistSearchResultSchema } from '../../src/modules/directory/directory-schemas.js'
import { bearer, createClient, registerUser } from '../helpers/auth.js'
import { onPostgres, sharedDatabase, testConfig } from '../helpers/database.js'
import { type CuratorClient, createTherapist, type TherapistInput } from '../helpers/directory.js'

/**
 * Two instances on one database: a change made through A (or by an operator's SQL) reaches B's caches
 * through the change feed. B's cache clock never moves and its facet counts are kept an hour, so
 * nothing but the feed can make B see the change; the test waits for the event, never for time.
 */

/** Records an app's change events; `next` must be asked before the change is made. */
function recorder(app: App) {
  const waiting: { matches: (event: ChangeEvent) => boolean; resolve: () => void }[] = []
  app.changes((event) => {
    for (const waiter of waiting.splice(0)) {
      if (waiter.matches(event)) waiter.resolve()
      else waiting.push(waiter)
    }
  })
  return {
    next: (matches: (event: ChangeEvent) => boolean) => new Promise<void>((resolve) => waiting.push({ matches, resolve })),
  }
}

async function feedUp(app: App): Promise<void> {
  while (app.changeFeed.status().state !== 'up') await new Promise((resolve) => setTimeout(resolve, 10))
}

const frozenClock = { now: () => 1 }
const config = { DIRECTORY_INDEX: 'off', FACET_CACHE_SECONDS: '3600' }

describe('caches across instances', () => {
  let a: App
  let b: App
  let onB: ReturnType<typeof recorder>

  beforeAll(async () => {
    const db = await sharedDatabase()
    a = await buildApp(testConfig(config), { db, cacheClock: frozenClock })
    b = await buildApp(testConfig(config), { db, cacheClock: frozenClock })
    await Promise.all([a.ready(), b.ready()])
    onB = recorder(b)
    await Promise.all([feedUp(a), feedUp(b)])
  })
  afterAll(async () => {
    await a.close()
    await b.close()
  })

  it('an app deactivated by an operator is refused by every instance once its row changes', async () => {
    const client = await createClient(a, ['directory:read'])
    const token = await a.inject({
      method: 'POST',
      url: '/v1/oauth/token',
      payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret },
    })
    const headers = bearer(token.json<{ access_token: string }>().access_token)
    // B verifies the token and caches that the app is active.
    expect((await b.inject({ method: 'GET', url: '/v1/modalities', headers })).statusCode).toBe(200)

    const heard = onB.next((event) => event.kind === 'client' && event.clientId === client.clientId)
    await a.db.query('UPDATE api_clients SET active = false WHERE client_id = $1', [client.clientId])
    await heard
    const refused = await b.inject({ method: 'GET', url: '/v1/modalities', headers })
    expect(refused.statusCode).toBe(401)
    expect(refused.json()).toMatchObject({ code: 'invalid_token' })
  })

  it('a therapist added through A is counted in the facets B serves', async () => {
    const curator = await createClient(a, ['directory:read', 'directory:write'])
    const token = (
      await a.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        payload: { grant_type: 'client_credentials', client_id: curator.clientId, client_secret: curator.clientSecret },
      })
    ).json<{ access_token: string }>().access_token
    const viaA: CuratorClient = { raw: a, inject: (options: InjectOptions) => a.inject({ ...options, headers: bearer(token) }) }
    const marker = `coherence-${randomUUID()}`
    const therapist = (): TherapistInput => ({ name: 'Sam Okafor', license: { type: 'lcsw', state: 'CA' }, formats: ['telehealth'], acceptingNewClients: true, insurance: [marker] })
    const count = async () => {
      const res = await b.inject({ method: 'GET', url: `/v1/therapists?insurance=${marker}&facets=licenseType&limit=1`, headers: bearer(token) })
      const body = TherapistSearchResultSchema.parse(res.json())
      return body.facets?.licenseType?.find((entry) => entry.value === 'lcsw')?.count ?? 0
    }

    await createTherapist(viaA, therapist())
    expect(await count()).toBe(1)
    const heard = onB.next((event) => event.kind === 'therapists')
    await createTherapist(viaA, therapist())
    await heard
    expect(await count()).toBe(2)
  })

  it('an account deleted through A ends its tokens on B', async () => {
    const user = await registerUser(a)
    expect((await b.inject({ method: 'GET', url: '/v1/me', headers: user.headers })).statusCode).toBe(200)
    const heard = onB.next((event) => event.kind === 'user')
    expect((await a.inject({ method: 'DELETE', url: '/v1/me', headers: user.headers })).statusCode).toBe(204)
    await heard
    expect((await b.inject({ method: 'GET', url: '/v1/me', headers: user.headers })).statusCode).toBe(401)
  })

  it('a vocabulary edited in the database is what B lists next', async () => {
    const token = (await registerUser(a)).headers
    const description = async () =>
      (await b.inject({ method: 'GET', url: '/v1/modalities', headers: token })).json<{ data: { slug: string; description: string }[] }>().data.find((term) => term.slug === 'gottman')?.description
    const original = await description()
    try {
      const heard = onB.next((event) => event.kind === 'vocabulary')
      await a.db.query(`UPDATE vocabulary_term SET description = description || ' (edited)' WHERE kind = 'modality' AND slug = 'gottman'`)
      await heard
      expect(await description()).toBe(`${original} (edited)`)
    } finally {
      await a.db.query(`UPDATE vocabulary_term SET description = $1 WHERE kind = 'modality' AND slug = 'gottman'`, [original])
    }
  })

  it.skipIf(!onPostgres())('resets its caches when the feed is lost, and again once it listens again', async () => {
    const resets = b.changeFeed.status().resets
    const lost = onB.next((event) => event.kind === 'reset')
    // Every connection listening for cache changes (A's and B's) is cut, as a network fault or a failover would.
    await a.db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN "cache_changes"' AND pid <> pg_backend_pid()`)
    await lost
    expect(b.changeFeed.status().resets).toBe(resets + 1)
    const back = onB.next((event) => event.kind === 'reset')
    await back
    await feedUp(b)
    // And changes are heard again.
    const heard = onB.next((event) => event.kind === 'vocabulary')
    await a.db.query(`UPDATE vocabulary_term SET description = description WHERE kind = 'modality' AND slug = 'gottman'`)
    await heard
  })
})
