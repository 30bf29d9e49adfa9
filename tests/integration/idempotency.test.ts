import { createHash, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { App } from '../../src/app.js'
import { buildApp } from '../../src/app.js'
import { BadRequestError, NotFoundError } from '../../src/lib/errors.js'
import { currentUserId } from '../../src/lib/principal.js'
import { replayById } from '../../src/plugins/idempotency/idempotency-plugin.js'
import { createIdempotencyService, IDEMPOTENCY_TTL_MS, requestHash, storedKey } from '../../src/plugins/idempotency/idempotency-service.js'
import { registerUser, type TestUser } from '../helpers/auth.js'
import { sharedDatabase, testConfig } from '../helpers/database.js'

const probeKey = (userId: string, id: string) => `probe:${userId}:${id}`

/** A probe route that creates one row per real execution, so a test can count creations. */
function addProbeRoute(app: App) {
  const read = async (userId: string, id: string) => {
    const row = await app.db.prisma.systemState.findUnique({ where: { key: probeKey(userId, id) } })
    if (!row) throw new NotFoundError('note', id)
    return { id, text: (row.value as { text: string }).text }
  }
  app.post(
    '/probe/notes',
    {
      config: { auth: { scope: 'journal:write' }, idempotent: replayById((request, id) => read(currentUserId(request), id)) },
      schema: { body: z.object({ text: z.string(), delayMs: z.number().int().max(2000).optional(), fail: z.boolean().optional() }) },
    },
    async (request, reply) => {
      if (request.body.fail) throw new BadRequestError('probe_failure', 'asked to fail')
      if (request.body.delayMs) await new Promise((resolve) => setTimeout(resolve, request.body.delayMs))
      const id = randomUUID()
      await app.db.prisma.systemState.create({ data: { key: probeKey(currentUserId(request), id), value: { text: request.body.text } } })
      return reply.status(201).header('location', `/probe/notes/${id}`).send({ id, text: request.body.text })
    },
  )
}

describe('Idempotency-Key', () => {
  let app: App
  let user: TestUser
  beforeAll(async () => {
    app = await buildApp(testConfig(), { db: await sharedDatabase() })
    addProbeRoute(app)
    await app.ready()
  })
  beforeAll(async () => {
    user = await registerUser(app)
  })
  afterAll(async () => {
    await app.close()
  })

  const created = (who: TestUser) => app.db.prisma.systemState.count({ where: { key: { startsWith: `probe:${who.user.id}:` } } })
  const post = (who: TestUser, body: Record<string, unknown>, key?: string) =>
    app.inject({ method: 'POST', url: '/probe/notes', headers: { ...who.headers, ...(key ? { 'idempotency-key': key } : {}) }, payload: body })

  it('creates once per key: a retry returns the first response, marked as replayed', async () => {
    const before = await created(user)
    const key = randomUUID()
    const first = await post(user, { text: 'hello', delayMs: 1 }, key)
    const retry = await post(user, { delayMs: 1, text: 'hello' }, key) // same body, keys in another order
    expect(first.statusCode).toBe(201)
    expect(retry.statusCode).toBe(201)
    expect(retry.json()).toEqual(first.json())
    expect(retry.headers.location).toBe(first.headers.location)
    expect(retry.headers['idempotent-replayed']).toBe('true')
    expect(first.headers['idempotent-replayed']).toBeUndefined()
    expect(await created(user)).toBe(before + 1)
  })

  it('creates every time without a key', async () => {
    const before = await created(user)
    await post(user, { text: 'a' })
    await post(user, { text: 'a' })
    expect(await created(user)).toBe(before + 2)
  })

  it('refuses the same key with another body (422) and creates nothing more', async () => {
    const key = randomUUID()
    await post(user, { text: 'one' }, key)
    const before = await created(user)
    const res = await post(user, { text: 'two' }, key)
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({ code: 'idempotency_key_reused' })
    expect(await created(user)).toBe(before)
  })

  it('creates one record when two identical requests arrive at once', async () => {
    const before = await created(user)
    const key = randomUUID()
    const [a, b] = await Promise.all([post(user, { text: 'race', delayMs: 300 }, key), post(user, { text: 'race', delayMs: 300 }, key)])
    expect([a.statusCode, b.statusCode]).toEqual([201, 201])
    expect(a.json()).toEqual(b.json())
    expect(await created(user)).toBe(before + 1)
  })

  it('frees the key when the first request fails, so the retry can succeed', async () => {
    const key = randomUUID()
    expect((await post(user, { text: 'x', fail: true }, key)).statusCode).toBe(400)
    const before = await created(user)
    expect((await post(user, { text: 'x' }, key)).statusCode).toBe(201)
    expect(await created(user)).toBe(before + 1)
  })

  it('keeps keys per user', async () => {
    const other = await registerUser(app)
    const key = randomUUID()
    const mine = await post(user, { text: 'same' }, key)
    const theirs = await post(other, { text: 'same' }, key)
    expect(theirs.statusCode).toBe(201)
    expect(theirs.json().id).not.toBe(mine.json().id)
    expect(theirs.headers['idempotent-replayed']).toBeUndefined()
  })

  it('forgets keys after 24 hours', async () => {
    const key = randomUUID()
    const first = await post(user, { text: 'old' }, key)
    const row = { userId: user.user.id, key: storedKey(key) }
    const claimed = await app.db.prisma.idempotencyKey.findUniqueOrThrow({ where: { userId_key: row } })
    expect(claimed.expiresAt.getTime() - claimed.createdAt.getTime()).toBe(IDEMPOTENCY_TTL_MS)
    await app.db.prisma.idempotencyKey.updateMany({ where: row, data: { expiresAt: new Date(Date.now() - 1000) } })
    const later = await post(user, { text: 'old' }, key)
    expect(later.statusCode).toBe(201)
    expect(later.json().id).not.toBe(first.json().id)
    expect(later.headers['idempotent-replayed']).toBeUndefined()
    // The expired row was replaced by the new claim, in place.
    const rows = await app.db.prisma.idempotencyKey.findMany({ where: row })
    expect(rows).toHaveLength(1)
    expect(rows[0]!.expiresAt.getTime()).toBeGreaterThan(Date.now() + IDEMPOTENCY_TTL_MS - 60_000)
    expect(rows[0]!.responseBody).toEqual({ id: later.json().id })
    const retry = await post(user, { text: 'old' }, key)
    expect(retry.json()).toEqual(later.json())
  })

  it('removes expired keys of every user now and then, off the request path, and keeps live ones', async () => {
    const [a, b] = [await registerUser(app), await registerUser(app)]
    const expiresAt = new Date(Date.now() - 1000)
    await app.db.prisma.idempotencyKey.createMany({
      data: [
        { userId: b.user.id, key: storedKey('expired'), requestHash: 'x', expiresAt },
        { userId: b.user.id, key: storedKey('live'), requestHash: 'x', expiresAt: new Date(Date.now() + 60_000) },
      ],
    })
    // A fresh instance sweeps on its first claim, whoever makes it, then not again for a while.
    const service = createIdempotencyService({ db: app.db, log: app.log })
    await service.begin({ kind: 'user', id: a.user.id }, randomUUID(), 'h')
    await service.close()
    const left = await app.db.prisma.idempotencyKey.findMany({ where: { userId: b.user.id } })
    expect(left.map((row) => row.key)).toEqual([storedKey('live')])
    await app.db.prisma.idempotencyKey.create({ data: { userId: b.user.id, key: storedKey('expired'), requestHash: 'x', expiresAt } })
    await service.begin({ kind: 'user', id: a.user.id }, randomUUID(), 'h')
    await service.close()
    expect(await app.db.prisma.idempotencyKey.count({ where: { userId: b.user.id } })).toBe(2)
  })

  it('keeps neither the key nor a hash of the body anyone could recompute without it', async () => {
    const key = randomUUID()
    const body = { text: 'a private note' }
    await post(user, body, key)
    const rows = await app.db.prisma.idempotencyKey.findMany({ where: { userId: user.user.id, key: storedKey(key) } })
    expect(rows).toHaveLength(1)
    const stored = JSON.stringify(rows[0])
    expect(stored).not.toContain(key)
    expect(stored).not.toContain('private note')
    const unkeyed = createHash('sha256').update(`POST /probe/notes\n${JSON.stringify(body)}`).digest('hex')
    expect(rows[0]!.requestHash).not.toBe(unkeyed)
    expect(rows[0]!.requestHash).toBe(requestHash(key, 'POST', '/probe/notes', body))
    expect(requestHash(randomUUID(), 'POST', '/probe/notes', body)).not.toBe(rows[0]!.requestHash)
  })

  it('answers a retry with the record as it is now: 404 once it was deleted, never created again', async () => {
    const key = randomUUID()
    const first = await post(user, { text: 'to delete' }, key)
    await app.db.prisma.systemState.delete({ where: { key: probeKey(user.user.id, first.json().id) } })
    const before = await created(user)
    const retry = await post(user, { text: 'to delete' }, key)
    expect(retry.statusCode).toBe(404)
    expect(await created(user)).toBe(before)
  })

  it('validates the key', async () => {
    for (const key of ['x'.repeat(256), 'has space', 'ümlaut']) {
      const res = await post(user, { text: 'v' }, key)
      expect(res.statusCode, key).toBe(400)
      expect(res.json().errors).toEqual([expect.objectContaining({ in: 'header', field: 'idempotency-key' })])
    }
  })
})
