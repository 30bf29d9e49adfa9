import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { buildApp } from '../../src/app.js'
import { PASSWORD, registerUser, uniqueEmail } from '../helpers/auth.js'
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
  const login = (app: App, email: string) => app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'not the password' } })

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

  it('limits attempts per account, whatever the IP', async () => {
    const app = await appWith({ RATE_LIMIT_ACCOUNT_MAX: '2' })
    const user = await registerUser(app)
    const email = user.user.email ?? ''
    expect((await login(app, email)).statusCode).toBe(401)
    expect((await login(app, email)).statusCode).toBe(401)
    const limited = await login(app, email)
    expect(limited.statusCode).toBe(429)
    expect(limited.headers['retry-after']).toBeDefined()
    // Even the right password waits: the account is being guessed at.
    expect((await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: PASSWORD } })).statusCode).toBe(429)
    // Another account from the same IP is unaffected.
    expect((await login(app, uniqueEmail())).statusCode).toBe(401)
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

  it('keeps serving when Redis is unreachable', async () => {
    const app = await appWith({ REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_AUTH_MAX: '1' })
    expect((await login(app, uniqueEmail())).statusCode).toBe(401)
    expect((await login(app, uniqueEmail())).statusCode).toBe(401)
  })
})
