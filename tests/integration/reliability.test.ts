import { randomUUID } from 'node:crypto'
import { connect, type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { type App, buildApp } from '../../src/app.js'
import { databaseOptions, MIGRATIONS_DIR, openPostgres } from '../../src/db/database.js'
import { applyMigrations, readMigrations } from '../../src/db/migrations.js'
import { actorOf, withTrail } from '../../src/lib/access-trail.js'
import { NotFoundError } from '../../src/lib/errors.js'
import { currentUserId } from '../../src/lib/principal.js'
import { replayById } from '../../src/plugins/idempotency/idempotency-plugin.js'
import { ClaimLostError, createIdempotencyService, storedKey } from '../../src/plugins/idempotency/idempotency-service.js'
import { registerUser, type TestUser } from '../helpers/auth.js'
import { capturingLogger } from '../helpers/app.js'
import { onPostgres, scratchDatabase, sharedDatabase, testConfig, testDatabaseUrl } from '../helpers/database.js'
import { writeEntry } from '../helpers/journal.js'

/** What no response may ever carry: Prisma's words, model names, SQL, hosts, driver codes. */
const LEAKS = /prisma|idempotencyKey|P10\d\d|P20\d\d|ECONNREFUSED|127\.0\.0\.1|select |insert |update |Can't reach/i

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status)
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/)
  expect(JSON.parse(res.body)).toMatchObject({ status, code })
  expect(res.body).not.toMatch(LEAKS)
}

const NOWHERE = 'postgresql://postgres@127.0.0.1:1/none'

describe('a database that cannot be reached (defect 2)', () => {
  it('answers 503 database_unavailable with Retry-After, and no driver text', async () => {
    const db = openPostgres(NOWHERE, { poolSize: 1, connectTimeoutMs: 1000 })
    const app = await buildApp(testConfig({ DIRECTORY_INDEX: 'off' }), { db })
    try {
      const res = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: `${randomUUID()}@example.com`, password: 'a long and personal passphrase' } })
      expectProblem(res, 503, 'database_unavailable')
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
      const search = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'someone@example.com', password: 'whatever it is' } })
      expectProblem(search, 503, 'database_unavailable')
    } finally {
      await app.close()
      await db.close()
    }
  })
})

/** A probe route that writes through `withTrail` (as every feature's create does), then does what the body asks. */
function addProbeRoutes(app: App, hooks: { afterWrite?: () => Promise<void> } = {}) {
  const key = (userId: string, id: string) => `reliability-probe:${userId}:${id}`
  app.post(
    '/probe/writes',
    {
      config: {
        auth: { scope: 'journal:write' },
        idempotent: replayById(
          async (request, id) => {
            const row = await app.db.prisma.systemState.findUnique({ where: { key: key(currentUserId(request), id) } })
            if (!row) throw new NotFoundError('probe', id)
            return { id }
          },
          (id) => `/probe/writes/${id}`,
        ),
      },
      schema: { body: z.object({ failAfterCommit: z.boolean().optional() }) },
    },
    async (request, reply) => {
      const userId = currentUserId(request)
      const id = randomUUID()
      await withTrail(
        app.db.prisma,
        actorOf(request),
        (tx) => tx.systemState.create({ data: { key: key(userId, id), value: {} } }),
        () => ({ userId, action: 'create', resourceType: 'journal_entry', resourceId: id }),
      )
      await hooks.afterWrite?.()
      // The write committed; the response is lost (the process dies, the connection drops) before it is stored after the fact.
      if (request.body.failAfterCommit) throw new Error('the response was lost after the write committed')
      return reply.status(201).header('location', `/probe/writes/${id}`).send({ id })
    },
  )
  app.get('/probe/never', async () => new Promise(() => undefined))
  return { count: (userId: string) => app.db.prisma.systemState.count({ where: { key: { startsWith: `reliability-probe:${userId}:` } } }) }
}

describe('Idempotency-Key and its write commit together (defect 1)', () => {
  let app: App
  let user: TestUser
  let probe: ReturnType<typeof addProbeRoutes>
  beforeAll(async () => {
    app = await buildApp(testConfig({ REQUEST_DEADLINE_MS: '1000' }), { db: await sharedDatabase() })
    probe = addProbeRoutes(app)
    await app.ready()
    user = await registerUser(app)
  })
  afterAll(async () => {
    await app.close()
  })

  const post = (body: Record<string, unknown>, key: string) => app.inject({ method: 'POST', url: '/probe/writes', headers: { ...user.headers, 'idempotency-key': key }, payload: body })

  it('replays the stored response when the write committed but the response was lost; never runs it twice', async () => {
    const key = randomUUID()
    const before = await probe.count(user.user.id)
    const first = await post({ failAfterCommit: true }, key)
    expectProblem(first, 500, 'internal_error')
    const retry = await post({ failAfterCommit: true }, key)
    expect(retry.statusCode, retry.body).toBe(201)
    expect(retry.headers['idempotent-replayed']).toBe('true')
    expect(retry.headers.location).toBe(`/probe/writes/${retry.json().id}`)
    expect(await probe.count(user.user.id)).toBe(before + 1)
  })

  it('stores the response with the journal entry it created, in the same transaction', async () => {
    const key = randomUUID()
    const res = await app.inject({ method: 'POST', url: '/v1/journal/entries', headers: { ...user.headers, 'idempotency-key': key }, payload: { body: 'Kept once.', mood: 5 } })
    expect(res.statusCode).toBe(201)
    const row = await app.db.prisma.idempotencyKey.findUniqueOrThrow({ where: { userId_key: { userId: user.user.id, key: storedKey(key) } } })
    expect(row).toMatchObject({ responseStatus: 201, responseBody: { id: res.json().id }, responseLocation: `/v1/journal/entries/${res.json().id}` })
  })

  it('takes over a claim whose request never finished once its lease ran out, and rolls back the old request if it still commits', async () => {
    let now = new Date()
    const service = createIdempotencyService({ db: app.db, log: app.log, leaseMs: 30_000, now: () => now })
    const key = randomUUID()
    const first = await service.begin({ kind: 'user', id: user.user.id }, key, 'hash')
    expect('claimed' in first).toBe(true)
    const oldClaim = (first as { claimed: string }).claimed
    // Within the lease the key is still the first request's (the wait then answers 409).
    now = new Date(now.getTime() + 31_000)
    const second = await service.begin({ kind: 'user', id: user.user.id }, key, 'hash')
    expect('claimed' in second && second.claimed).not.toBe(oldClaim)
    // The first request, late, tries to commit its write with its lost claim: the write rolls back.
    const lateId = randomUUID()
    await expect(
      app.db.prisma.$transaction(async (tx) => {
        await tx.systemState.create({ data: { key: `reliability-late:${lateId}`, value: {} } })
        await service.completeIn(tx, oldClaim, { status: 201, body: { id: lateId }, location: null })
      }),
    ).rejects.toBeInstanceOf(ClaimLostError)
    expect(await app.db.prisma.systemState.count({ where: { key: `reliability-late:${lateId}` } })).toBe(0)
    await service.close()
  })

  it('answers 503 deadline_exceeded past REQUEST_DEADLINE_MS (defect 4)', async () => {
    const res = await app.inject({ method: 'GET', url: '/probe/never' })
    expectProblem(res, 503, 'deadline_exceeded')
    expect(res.headers['retry-after']).toBeDefined()
  })
})

describe('the NDJSON import’s own deadline', () => {
  it('runs under IMPORT_DEADLINE_MS, every other route under REQUEST_DEADLINE_MS', async () => {
    const app = await buildApp(testConfig({ REQUEST_DEADLINE_MS: '1000', IMPORT_DEADLINE_MS: '600000' }), { db: await sharedDatabase() })
    const seen = new Map<string, number | undefined>()
    app.addHook('onRequest', async (request) => {
      seen.set(request.routeOptions.url ?? '', request.routeOptions.handlerTimeout)
    })
    await app.ready()
    try {
      // A wrong content type is refused before the body is read: enough to reach the route.
      await app.inject({ method: 'POST', url: '/v1/therapists/import', headers: { 'content-type': 'text/plain' }, payload: 'x' })
      await app.inject({ method: 'GET', url: '/healthz' })
      expect(seen.get('/v1/therapists/import')).toBe(600_000)
      expect(seen.get('/healthz')).toBe(1000)
    } finally {
      await app.close()
    }
  })
})

describe('faults in the middle of a request (defects 3 and 4)', () => {
  it('answers problem+json without Prisma text when the database goes away after a key was claimed', async () => {
    const scratch = await scratchDatabase()
    await scratch.db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))
    const app = await buildApp(testConfig({ DIRECTORY_INDEX: 'off', ...(scratch.url ? { DATABASE_URL: scratch.url } : {}) }), { db: scratch.db })
    addProbeRoutes(app, { afterWrite: () => scratch.destroy() })
    await app.ready()
    try {
      const user = await registerUser(app)
      // The write commits, then the database is gone and the request fails: freeing the key fails too.
      const res = await app.inject({ method: 'POST', url: '/probe/writes', headers: { ...user.headers, 'idempotency-key': randomUUID() }, payload: { failAfterCommit: true } })
      expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/)
      expect(res.body).not.toMatch(LEAKS)
      expect(res.statusCode).toBeGreaterThanOrEqual(500)
    } finally {
      await app.close()
      await scratch.destroy().catch(() => undefined)
    }
  })

  it.runIf(onPostgres())('answers 503 when its connection is terminated mid-request (pg_terminate_backend)', async () => {
    const db = await sharedDatabase()
    const app = await buildApp(testConfig(), { db })
    app.get('/probe/terminated', async () => db.query('select pg_terminate_backend(pg_backend_pid())'))
    try {
      expectProblem(await app.inject({ method: 'GET', url: '/probe/terminated' }), 503, 'database_unavailable')
    } finally {
      await app.close()
    }
  })

  it.runIf(onPostgres())('bounds a statement (statement_timeout) and the wait for a pooled connection', async () => {
    const config = testConfig({ DB_STATEMENT_TIMEOUT_MS: '200', DB_CONNECT_TIMEOUT_MS: '200' })
    const db = openPostgres(testDatabaseUrl(), { ...databaseOptions(config), poolSize: 1 })
    const app = await buildApp(config, { db })
    app.get('/probe/slow', async () => db.query('select pg_sleep(30)'))
    app.get('/probe/quick', async () => db.query('select 1 as one'))
    try {
      expectProblem(await app.inject({ method: 'GET', url: '/probe/slow' }), 503, 'database_unavailable')
      // The only connection is held: waiting for another one gives up.
      let release: () => void = () => undefined
      const held = db.withSession(() => new Promise<void>((resolve) => (release = resolve)))
      expectProblem(await app.inject({ method: 'GET', url: '/probe/quick' }), 503, 'database_unavailable')
      release()
      await held
    } finally {
      await app.close()
      await db.close()
    }
  })
})

describe('hostile input (defects 5 and 7)', () => {
  let app: App
  let user: TestUser
  beforeAll(async () => {
    app = await buildApp(testConfig({ REQUEST_TIMEOUT_MS: '1000' }), { db: await sharedDatabase() })
    await app.ready()
    user = await registerUser(app)
  })
  afterAll(async () => {
    await app.close()
  })
  const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

  it.each([
    ['GET', '/v1/therapists?q=%00', 'query', 'q'],
    ['GET', '/v1/therapists?insurance=%00', 'query', 'insurance'],
    ['GET', '/v1/therapists?cursor=%00', 'query', 'cursor'],
    ['GET', '/v1/instruments/gad-7?version=2147483648', 'query', 'version'],
    ['GET', `/v1/therapists?sort=fee&cursor=${cursor({ s: 'fee', f: 2 ** 31, id: randomUUID() })}`, 'query', 'cursor'],
    ['GET', `/v1/journal/entries?cursor=${cursor({ o: '0000-01-01T00:00:00.000Z', i: randomUUID() })}`, 'query', 'cursor'],
    ['GET', `/v1/therapists?near=37.7,-122.4&cursor=${cursor({ s: 'distance', b: 1, n: 'A', id: randomUUID() })}`, 'query', 'cursor'],
  ])('%s %s → 400 naming the field', async (method, url, place, field) => {
    const res = await app.inject({ method: method as 'GET', url, headers: user.headers })
    expectProblem(res, 400, JSON.parse(res.body).code)
    expect(JSON.parse(res.body).errors).toEqual(expect.arrayContaining([expect.objectContaining({ in: place, field })]))
  })

  it.each([
    ['/v1/auth/register', { email: `${randomUUID()}@example.com`, password: 'a long and personal passphrase', displayName: 'Nul\u0000' }, 'displayName'],
    ['/v1/journal/entries', { body: 'lone \ud800 surrogate', mood: 5 }, 'body'],
  ])('POST %s with text no database can store → 400 naming %s', async (url, payload, field) => {
    const res = await app.inject({ method: 'POST', url, headers: url.startsWith('/v1/journal') ? user.headers : {}, payload })
    expectProblem(res, 400, 'validation_failed')
    expect(res.json().errors).toEqual([expect.objectContaining({ in: 'body', field, code: 'invalid_characters' })])
  })

  it('keeps the token endpoint in RFC 6749 shape for a NUL in client_id', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: 'a\u0000b', client_secret: 'x' } })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ error: 'invalid_request' })
  })

  it('answers an id over 100 characters with 414 problem+json', async () => {
    expectProblem(await app.inject({ method: 'GET', url: `/v1/therapists/${'a'.repeat(101)}`, headers: user.headers }), 414, 'uri_too_long')
  })

  it('cuts off a client that sends its body too slowly with 408 problem+json (REQUEST_TIMEOUT_MS)', async () => {
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = new URL(address)
    const socket = connect({ port: Number(port), host: '127.0.0.1' })
    const answer = await new Promise<string>((resolve, reject) => {
      let received = ''
      socket.on('data', (chunk) => (received += chunk.toString('utf8')))
      socket.on('close', () => resolve(received))
      socket.on('error', reject)
      socket.write('POST /v1/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{')
    })
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
    expect(answer).toMatch(/content-type: application\/problem\+json/i)
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 408, code: 'request_timeout' })
    void (socket.address() as AddressInfo)
  })
})

describe('one journal entry that cannot be decrypted (defect 8)', () => {
  let app: App
  let user: TestUser
  const log = capturingLogger('error')
  beforeAll(async () => {
    app = await buildApp(testConfig({ LOG_LEVEL: 'error' }), { db: await sharedDatabase(), logger: log.logger })
    await app.ready()
    user = await registerUser(app)
  })
  afterAll(async () => {
    await app.close()
  })

  it('is served marked unreadable in the list and the export, logged once; PATCH replacing its text and DELETE work', async () => {
    const good = await writeEntry(app, user, { body: 'A readable day.' })
    const tampered = await writeEntry(app, user, { body: 'To be altered.', title: 'A title' })
    const retired = await writeEntry(app, user, { body: 'Sealed with a retired key.' })
    const row = await app.db.prisma.journalEntry.findUniqueOrThrow({ where: { id: tampered.id } })
    const altered = Uint8Array.from(row.bodyEnc)
    altered[altered.length - 1]! ^= 1
    await app.db.prisma.journalEntry.update({ where: { id: tampered.id }, data: { bodyEnc: altered } })
    await app.db.prisma.journalEntry.update({ where: { id: retired.id }, data: { keyId: 'retired-key' } })

    for (let round = 0; round < 2; round++) {
      const list = await app.inject({ method: 'GET', url: '/v1/journal/entries', headers: user.headers })
      expect(list.statusCode, list.body).toBe(200)
      const byId = new Map(list.json<{ data: { id: string; unreadable?: boolean; unreadableCode?: string; body: string }[] }>().data.map((entry) => [entry.id, entry]))
      expect(byId.get(good.id)).toMatchObject({ body: 'A readable day.' })
      expect(byId.get(good.id)?.unreadable).toBeUndefined()
      expect(byId.get(tampered.id)).toMatchObject({ unreadable: true, unreadableCode: 'journal_text_not_authentic', body: '', title: 'A title' })
      expect(byId.get(retired.id)).toMatchObject({ unreadable: true, unreadableCode: 'journal_key_unknown', body: '' })
    }
    const exported = await app.inject({ method: 'GET', url: '/v1/me/export', headers: user.headers })
    expect(exported.statusCode, exported.body).toBe(200)
    expect(exported.body).toContain('A readable day.')
    expect(log.lines().filter((line) => line.entryId === tampered.id)).toHaveLength(1)

    const keepText = await app.inject({ method: 'PATCH', url: `/v1/journal/entries/${tampered.id}`, headers: user.headers, payload: { mood: 3 } })
    expectProblem(keepText, 409, 'journal_entry_unreadable')
    const replaced = await app.inject({ method: 'PATCH', url: `/v1/journal/entries/${tampered.id}`, headers: user.headers, payload: { body: 'Written again.' } })
    expect(replaced.statusCode, replaced.body).toBe(200)
    expect(replaced.json()).toMatchObject({ body: 'Written again.', title: 'A title' })
    expect(replaced.json().unreadable).toBeUndefined()
    const replacedRetired = await app.inject({ method: 'PATCH', url: `/v1/journal/entries/${retired.id}`, headers: user.headers, payload: { body: 'New text.' } })
    expect(replacedRetired.statusCode, replacedRetired.body).toBe(200)

    const again = await writeEntry(app, user, { body: 'To be deleted.' })
    await app.db.prisma.journalEntry.update({ where: { id: again.id }, data: { keyId: 'retired-key' } })
    expect((await app.inject({ method: 'DELETE', url: `/v1/journal/entries/${again.id}`, headers: user.headers })).statusCode).toBe(204)
  })
})
