import { randomUUID } from 'node:crypto'
import { replayById } from '../../src/plugins/idempotency/idempotency-plugin.js'
import { storedKey } from '../../src/plugins/idempotency/idempotency-service.js'
import type { InjectOptions } from 'fastify'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { App } from '../../src/app.js'
import { buildApp } from '../../src/app.js'
import { bearer, clientToken, PASSWORD, registerUser, uniqueEmail } from '../helpers/auth.js'
import { capturingLogger } from '../helpers/app.js'
import { sharedDatabase, testConfig } from '../helpers/database.js'

const REDIS_URL = 'redis://127.0.0.1:6379'

describe('rate limits', () => {
  const apps: App[] = []
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()))
  })
  const appWith = async (overrides: Record<string, string>) => {
    const app = await buildApp(testConfig(overrides), { db: await sharedDatabase() })
    apps.push(app)
    return app
  }
  const login = (app: App, email: string, remoteAddress = '127.0.0.1') =>
    app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'not the password' }, remoteAddress })

  it('limits credential endpoints per IP, with RateLimit headers and a 429 problem with Retry-After', async () => {
    const app = await appWith({ RATE_LIMIT_AUTH_MAX: '3' })
    const first = await login(app, uniqueEmail())
    expect(first.statusCode).toBe(401)
    expect(first.headers['ratelimit-limit']).toBe('3')
    expect(first.headers['ratelimit-remaining']).toBe('2')
    expect(Number(first.headers['ratelimit-reset'])).toBeGreaterThan(0)
    await login(app, uniqueEmail())
    // The limit is shared by register, login, refresh and the token endpoint.
    await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: 'tpr_x' } })
    const limited = await login(app, uniqueEmail())
    expect(limited.statusCode).toBe(429)
    expect(limited.headers['content-type']).toMatch(/problem\+json/)
    expect(limited.json()).toMatchObject({ status: 429, code: 'rate_limited' })
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    expect(limited.headers['ratelimit-remaining']).toBe('0')
    const token = await app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials' } })
    expect(token.statusCode).toBe(429)
  })

  it('limits attempts per account from each address, and its 429 reports the account limit', async () => {
    const app = await appWith({ RATE_LIMIT_ACCOUNT_MAX: '2' })
    const user = await registerUser(app)
    const email = user.user.email ?? ''
    const first = await login(app, email, '10.0.0.2')
    expect(first.statusCode).toBe(401)
    // The headers describe the limit closer to refusing: here the account's.
    expect(first.headers['ratelimit-limit']).toBe('2')
    expect(first.headers['ratelimit-remaining']).toBe('1')
    expect((await login(app, email, '10.0.0.2')).statusCode).toBe(401)
    const limited = await login(app, email, '10.0.0.2')
    expect(limited.statusCode).toBe(429)
    expect(limited.json().detail).toMatch(/this account/)
    expect(limited.headers['retry-after']).toBeDefined()
    expect(limited.headers['ratelimit-limit']).toBe('2')
    expect(limited.headers['ratelimit-remaining']).toBe('0')
    // The guessing address waits, even with the right password.
    const fromGuesser = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: PASSWORD }, remoteAddress: '10.0.0.2' })
    expect(fromGuesser.statusCode).toBe(429)
    // Another account from the same IP is unaffected.
    expect((await login(app, uniqueEmail(), '10.0.0.2')).statusCode).toBe(401)
  })

  it('cannot be used to lock the owner out: their right password from another address still signs in', async () => {
    const app = await appWith({ RATE_LIMIT_ACCOUNT_MAX: '2' })
    const user = await registerUser(app)
    const email = user.user.email ?? ''
    for (let attempt = 0; attempt < 5; attempt++) await login(app, email, '10.9.0.66')
    expect((await login(app, email, '10.9.0.66')).statusCode).toBe(429)
    const owner = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: PASSWORD }, remoteAddress: '10.9.0.7' })
    expect(owner.statusCode).toBe(200)
  })

  it('warns once when X-Forwarded-For arrives while TRUST_PROXY_HOPS is 0', async () => {
    const { logger, lines } = capturingLogger('warn')
    const app = await buildApp(testConfig({ LOG_LEVEL: 'warn' }), { db: await sharedDatabase(), logger })
    apps.push(app)
    for (let i = 0; i < 3; i++) await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-forwarded-for': '203.0.113.9' } })
    expect(lines().filter((line) => String(line.msg).includes('TRUST_PROXY_HOPS'))).toHaveLength(1)
  })

  it('counts failed authentications per IP, and refuses that address once it has failed too often', async () => {
    const app = await appWith({ RATE_LIMIT_MAX: '3' })
    const user = await registerUser(app)
    const bad = { authorization: 'Bearer not.a.token' }
    for (const remaining of ['2', '1', '0']) {
      const res = await app.inject({ method: 'GET', url: '/v1/me', headers: bad, remoteAddress: '10.1.0.1' })
      expect(res.statusCode).toBe(401)
      expect(res.headers['ratelimit-limit']).toBe('3')
      expect(res.headers['ratelimit-remaining']).toBe(remaining)
    }
    const flood = await app.inject({ method: 'GET', url: '/v1/me', headers: bad, remoteAddress: '10.1.0.1' })
    expect(flood.statusCode).toBe(429)
    expect(flood.json()).toMatchObject({ code: 'rate_limited' })
    expect(flood.json().detail).toMatch(/failed authentications/)
    expect(Number(flood.headers['retry-after'])).toBeGreaterThan(0)
    // Until the window ends, that address is refused before any token is looked at, and without a token too.
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: user.headers, remoteAddress: '10.1.0.1' })).statusCode).toBe(429)
    expect((await app.inject({ method: 'GET', url: '/v1/me', remoteAddress: '10.1.0.1' })).statusCode).toBe(429)
    // Other addresses, and sign-in from the same one (its own counter), are unaffected.
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: user.headers, remoteAddress: '10.1.0.2' })).statusCode).toBe(200)
    expect((await login(app, uniqueEmail(), '10.1.0.1')).statusCode).toBe(401)
  })

  it('counts refused requests (403) toward the caller\'s limit', async () => {
    const app = await appWith({ RATE_LIMIT_MAX: '2' })
    const token = await clientToken(app, ['directory:read'])
    const me = () => app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })
    expect((await me()).statusCode).toBe(403)
    const second = await me()
    expect(second.statusCode).toBe(403)
    expect(second.headers['ratelimit-remaining']).toBe('0')
    expect((await me()).statusCode).toBe(429)
  })

  it('refuses a request over the limit before it can claim or replay an idempotency key', async () => {
    const app = await appWith({ RATE_LIMIT_MAX: '2' })
    const probe = { auth: { scope: 'journal:write' as const }, idempotent: replayById(async (_request, id) => ({ id })) }
    app.post('/probe/notes', { config: probe }, async (_request, reply) => reply.status(201).send({ id: randomUUID() }))
    const user = await registerUser(app)
    const post = (key: string) => app.inject({ method: 'POST', url: '/probe/notes', headers: { ...user.headers, 'idempotency-key': key }, payload: {} })
    const keys = (key: string) => app.db.prisma.idempotencyKey.count({ where: { userId: user.user.id, key: storedKey(key) } })
    const first = randomUUID()
    expect((await post(first)).statusCode).toBe(201)
    expect(await keys(first)).toBe(1)
    const replay = await post(first)
    expect(replay.headers['idempotent-replayed']).toBe('true')

    const fresh = randomUUID()
    const limited = await post(fresh)
    expect(limited.statusCode).toBe(429)
    expect(await keys(fresh)).toBe(0)
    // A replay is a request like any other: over the limit, it is refused too.
    const lateReplay = await post(first)
    expect(lateReplay.statusCode).toBe(429)
    expect(lateReplay.headers['idempotent-replayed']).toBeUndefined()
  })

  it('limits other routes per user, not per IP, and never limits health checks', async () => {
    const app = await appWith({ RATE_LIMIT_MAX: '2' })
    const [alice, bob] = [await registerUser(app), await registerUser(app)]
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: alice.headers })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: alice.headers })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: alice.headers })).statusCode).toBe(429)
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: bob.headers })).statusCode).toBe(200)
    for (let i = 0; i < 5; i++) expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })

  it('shares counters between instances through Redis', async () => {
    const namespace = `therapath-test-${randomUUID()}:`
    const settings = { REDIS_URL, RATE_LIMIT_NAMESPACE: namespace, RATE_LIMIT_AUTH_MAX: '3' }
    const [a, b] = [await appWith(settings), await appWith(settings)]
    expect((await login(a, uniqueEmail())).statusCode).toBe(401)
    expect((await login(b, uniqueEmail())).statusCode).toBe(401)
    const third = await login(a, uniqueEmail())
    expect(third.headers['ratelimit-remaining']).toBe('0')
    const fourth = await login(b, uniqueEmail())
    expect(fourth.statusCode).toBe(429)
    expect(fourth.headers['retry-after']).toBeDefined()
  })

  it('keeps serving, without waiting, when Redis is unreachable, and logs the outage once', async () => {
    const log = capturingLogger('warn')
    const app = await buildApp(testConfig({ REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_AUTH_MAX: '1' }), { db: await sharedDatabase(), logger: log.logger })
    apps.push(app)
    const user = await registerUser(app)
    const calls: InjectOptions[] = [
      // The credentials limits, twice over the limit of 1.
      { method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: 'tpr_unknown' } },
      { method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: 'tpr_unknown' } },
      // The failed-authentication counter, and the general limit.
      { method: 'GET', url: '/v1/me', headers: { authorization: 'Bearer nope' } },
      { method: 'GET', url: '/v1/me', headers: user.headers },
    ]
    // The clock stands still: a request that waited for Redis (a reconnection, a command timeout)
    // would never answer. Timers are moved by hand instead of measured, so a slow machine cannot fail this.
    const realSetTimeout = globalThis.setTimeout
    const answered = (call: InjectOptions) =>
      Promise.race([app.inject(call), new Promise<never>((_, reject) => realSetTimeout(() => reject(new Error(`${JSON.stringify(call.url)} waited for Redis`)), 10_000))])
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
    try {
      const statuses = []
      for (const call of calls) statuses.push((await answered(call)).statusCode)
      expect(statuses).toEqual([401, 401, 401, 200])
      // ioredis keeps retrying (and failing) meanwhile; a minute of retries later, the log says so once.
      await vi.advanceTimersByTimeAsync(60_000)
    } finally {
      vi.useRealTimers()
    }
    expect(log.lines().filter((line) => String(line.msg).includes('rate-limit store'))).toHaveLength(1)
  })
})
