import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, buildApp } from '../../src/app.js'
import { ChangePageSchema, type TherapistChange } from '../../src/modules/sync/sync-schemas.js'
import { bearer, clientToken } from '../helpers/auth.js'
import { sharedDatabase, testConfig } from '../helpers/database.js'

/**
 * The change feed: an event per change, in the write's own transaction (imports line by line, nothing
 * for a write that failed), in position order with cursors that outlive the process, and 410 past retention.
 */

const therapist = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  license: { type: 'lcsw', state: 'CA' },
  formats: ['telehealth'],
  acceptingNewClients: true,
  ...extra,
})

describe('directory change feed', () => {
  let app: App
  let curator: { authorization: string }
  let reader: { authorization: string }

  const build = (clock?: { now(): Date }) => sharedDatabase().then((db) => buildApp(testConfig({ WEBHOOK_DELIVERY_INTERVAL_MS: '0' }), { db, ...(clock ? { clock } : {}) }))

  beforeAll(async () => {
    app = await build()
    curator = bearer(await clientToken(app, ['directory:read', 'directory:write']))
    reader = bearer(await clientToken(app, ['directory:read']))
  })
  afterAll(async () => {
    await app.close()
  })

  async function page(after: string, limit = 1000, on = app) {
    const res = await on.inject({ method: 'GET', url: `/v1/therapists/changes?after=${after}&limit=${limit}`, headers: reader })
    expect(res.statusCode, res.body).toBe(200)
    return ChangePageSchema.parse(res.json())
  }
  const now = async () => (await page('now')).page.nextCursor
  /** Every event after `after`, following the cursor page by page. */
  async function all(after: string, limit = 1000): Promise<TherapistChange[]> {
    const events: TherapistChange[] = []
    let cursor = after
    for (;;) {
      const next = await page(cursor, limit)
      events.push(...next.data)
      if (!next.page.hasMore) return events
      cursor = next.page.nextCursor
    }
  }
  const of = (events: TherapistChange[], ids: string[]) => events.filter((event) => ids.includes(event.therapistId))

  async function create(input: Record<string, unknown>): Promise<string> {
    const res = await app.inject({ method: 'POST', url: '/v1/therapists', headers: curator, payload: input })
    expect(res.statusCode, res.body).toBe(201)
    return res.json<{ id: string }>().id
  }

  it('records create, update (with the changed fields) and delete, in order', async () => {
    const start = await now()
    const id = await create(therapist('Feed Person'))
    expect((await app.inject({ method: 'PATCH', url: `/v1/therapists/${id}`, headers: curator, payload: { name: 'Feed Person Renamed', feeMin: 90 } })).statusCode).toBe(200)
    const offices = [{ street: '1 Main St', city: 'San Francisco', state: 'CA', postalCode: '94103', latitude: 37.77, longitude: -122.41 }]
    expect((await app.inject({ method: 'PATCH', url: `/v1/therapists/${id}`, headers: curator, payload: { offices } })).statusCode).toBe(200)
    // Nothing changed: no event.
    expect((await app.inject({ method: 'PATCH', url: `/v1/therapists/${id}`, headers: curator, payload: { offices } })).statusCode).toBe(200)
    expect((await app.inject({ method: 'DELETE', url: `/v1/therapists/${id}`, headers: curator })).statusCode).toBe(204)

    const events = of(await all(start), [id])
    expect(events.map((event) => [event.type, event.changedFields])).toEqual([
      ['therapist.created', null],
      ['therapist.updated', ['name', 'feeMin']],
      ['therapist.updated', ['offices']],
      ['therapist.deleted', null],
    ])
    const positions = events.map((event) => BigInt(event.position))
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
    expect(new Set(events.map((event) => event.id)).size).toBe(4)
  })

  it('appends nothing for a write that fails or rolls back', async () => {
    const externalId = `feed-${randomUUID()}`
    const id = await create(therapist('Feed Owner', { externalId }))
    const start = await now()
    // A taken externalId: the insert fails, no event.
    const taken = await app.inject({ method: 'POST', url: '/v1/therapists', headers: curator, payload: therapist('Feed Copy', { externalId }) })
    expect(taken.statusCode).toBe(409)
    // A transaction that changes the row and then rolls back.
    await expect(
      app.db.prisma.$transaction(async (tx) => {
        await tx.$executeRaw`UPDATE therapist SET name = 'Rolled Back' WHERE id = ${id}::uuid`
        throw new Error('roll back')
      }),
    ).rejects.toThrow('roll back')
    const events = await all(start)
    expect(events.filter((event) => event.therapistId === id)).toEqual([])
    expect((await page(start)).page.nextCursor).toBe(start)
  })

  it('appends one event per written import line, and none for unchanged or rejected lines', async () => {
    const prefix = `feed-import-${randomUUID()}`
    const lines = [0, 1, 2].map((n) => therapist(`Imported ${n}`, { externalId: `${prefix}-${n}` }))
    const send = async (rows: unknown[]) => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/therapists/import',
        headers: { ...curator, 'content-type': 'application/x-ndjson' },
        payload: rows.map((row) => JSON.stringify(row)).join('\n'),
      })
      expect(res.statusCode, res.body).toBe(200)
      return res.json<{ results: { status: string; id: string | null }[] }>()
    }
    const start = await now()
    const first = await send([...lines, { name: 'broken line' }])
    const ids = first.results.flatMap((result) => (result.id ? [result.id] : []))
    expect(ids).toHaveLength(3)
    const afterFirst = await now()
    expect(of(await all(start), ids).map((event) => event.type)).toEqual(['therapist.created', 'therapist.created', 'therapist.created'])

    // Re-imported: two unchanged, one changed.
    await send([lines[0], lines[1], { ...lines[2], bio: 'A new bio.' }])
    const second = of(await all(afterFirst), ids)
    expect(second.map((event) => [event.type, event.therapistId, event.changedFields])).toEqual([['therapist.updated', ids[2], ['bio']]])
  })

  it('pages with a cursor that survives a restart', async () => {
    const start = await now()
    const ids: string[] = []
    for (let n = 0; n < 5; n += 1) ids.push(await create(therapist(`Paged ${n}`)))
    const first = await page(start, 2)
    expect(first.data).toHaveLength(2)
    expect(first.page.hasMore).toBe(true)

    // Another process picks up from the stored cursor.
    await app.close()
    app = await build()
    const rest = await all(first.page.nextCursor, 2)
    const seen = of([...first.data, ...rest], ids)
    expect(seen.map((event) => event.therapistId)).toEqual(ids)
    expect(new Set(seen.map((event) => event.position)).size).toBe(5)
    // Caught up: the same cursor comes back.
    const last = await page(rest.at(-1)?.position ?? first.page.nextCursor)
    expect(last.data).toEqual([])
    expect(last.page.hasMore).toBe(false)
  })

  it('needs directory:read', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/therapists/changes?after=now' })).statusCode).toBe(401)
    const hooksOnly = bearer(await clientToken(app, ['webhooks:write']))
    const res = await app.inject({ method: 'GET', url: '/v1/therapists/changes?after=now', headers: hooksOnly })
    expect(res.statusCode).toBe(403)
    expect(res.json()).toMatchObject({ code: 'insufficient_scope' })
    expect((await app.inject({ method: 'GET', url: '/v1/therapists/changes?after=-1', headers: reader })).statusCode).toBe(400)
  })

  it('answers 410 for a position from the future, and for one past the retention', async () => {
    const head = BigInt(await now())
    const future = await app.inject({ method: 'GET', url: `/v1/therapists/changes?after=${head + 1000n}`, headers: reader })
    expect(future.statusCode).toBe(410)
    expect(future.json()).toMatchObject({ code: 'changes_cursor_unknown' })

    const start = await now()
    await create(therapist('Old News'))
    // 31 days later, retention (30 days) has deleted that event.
    const later = await build({ now: () => new Date(Date.now() + 31 * 86_400_000) })
    try {
      expect(await later.directoryChanges.prune()).toBeGreaterThan(0)
      const gone = await later.inject({ method: 'GET', url: `/v1/therapists/changes?after=${start}`, headers: reader })
      expect(gone.statusCode).toBe(410)
      expect(gone.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(gone.json()).toMatchObject({ code: 'changes_expired', status: 410 })
      // A fresh start works, and the feed carries on from there.
      const fresh = await page('now', 10, later)
      expect(BigInt(fresh.page.nextCursor)).toBeGreaterThan(BigInt(start))
      expect((await page(fresh.page.nextCursor, 10, later)).data).toEqual([])
    } finally {
      await later.close()
    }
  })
})
