import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { App } from '../../src/app.js'
import { buildApp } from '../../src/app.js'
import { type Database, MIGRATIONS_DIR } from '../../src/db/database.js'
import { applyMigrations, readMigrations } from '../../src/db/migrations.js'
import { buildTestApp } from '../helpers/app.js'
import { scratchDatabase, sharedDatabase, testConfig } from '../helpers/database.js'
import { indexSettled } from '../helpers/directory.js'

describe('health, readiness and metrics', () => {
  let app: App
  beforeAll(async () => {
    app = await buildTestApp()
  })
  afterAll(async () => {
    await app.close()
  })

  it('GET /healthz answers while the process is up', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ status: 'ok', uptimeSeconds: expect.any(Number) })
  })

  it('GET /readyz answers 200 on a migrated database', async () => {
    await indexSettled(app)
    // The change feed connects after `ready` (it never holds the start up): wait for it, as for the index.
    await vi.waitFor(() => expect(app.changeFeed.status().state).toBe('up'), { timeout: 30_000, interval: 50 })
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      status: 'ready',
      database: app.db.kind,
      migrations: { applied: readMigrations(MIGRATIONS_DIR).length },
      directoryIndex: { state: 'ready', therapists: expect.any(Number), megabytes: expect.any(Number), builtInMs: expect.any(Number) },
      changeFeed: { state: 'up', resets: 0 },
    })
  })

  it('GET /metrics counts requests by route template and status, with process metrics', async () => {
    await app.inject({ method: 'GET', url: '/healthz' })
    await app.inject({ method: 'GET', url: '/no/such/route/123' })
    const res = await app.inject({ method: 'GET', url: '/metrics' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.body).toMatch(/http_requests_total\{method="GET",route="\/healthz",status_code="200"\} \d+/)
    expect(res.body).toMatch(/http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1/)
    expect(res.body).toMatch(/http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/healthz",status_code="200"\}/)
    expect(res.body).toContain('process_cpu_user_seconds_total')
    expect(res.body).toContain('nodejs_eventloop_lag_seconds')
    expect(res.body).not.toContain('/no/such/route/123')
  })
})

describe('readiness cost', () => {
  it('checks the migrations until it has seen them applied, then only that the database answers', async () => {
    const shared = await sharedDatabase()
    const calls = { sessions: 0, queries: [] as string[] }
    // The shared database, counting the sessions and queries readiness asks of it.
    const db: Database = {
      ...shared,
      withSession: (work) => {
        calls.sessions += 1
        return shared.withSession(work)
      },
      query: (sql, params) => {
        calls.queries.push(sql)
        return shared.query(sql, params)
      },
    }
    // The directory index off: its build reads the database too, and this counts readiness's own reads.
    const app = await buildApp(testConfig({ DIRECTORY_INDEX: 'off' }), { db })
    try {
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
      expect(calls).toEqual({ sessions: 1, queries: [] })
      for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
      expect(calls).toEqual({ sessions: 1, queries: ['select 1', 'select 1', 'select 1'] })
    } finally {
      await app.close()
    }
  })
})

describe('metrics token', () => {
  it('requires the bearer token when METRICS_TOKEN is set', async () => {
    const app = await buildTestApp({ METRICS_TOKEN: 'a-long-metrics-token-1234' })
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401)
    expect((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong-token-000000000' } })).statusCode).toBe(401)
    const ok = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer a-long-metrics-token-1234' } })
    expect(ok.statusCode).toBe(200)
    await app.close()
  })
})

describe('readiness failures', () => {
  it('answers 503 while migrations are pending', async () => {
    const scratch = await scratchDatabase()
    const app = await buildApp(testConfig(), { db: scratch.db })
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' })
      expect(res.statusCode).toBe(503)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(res.json()).toMatchObject({ status: 503, code: 'not_migrated' })
    } finally {
      await app.close()
      await scratch.destroy()
    }
  })

  it('answers 503 when the database is gone', async () => {
    const scratch = await scratchDatabase()
    await scratch.db.withSession((s) => applyMigrations(s, readMigrations(MIGRATIONS_DIR)))
    const app = await buildApp(testConfig(), { db: scratch.db })
    try {
      await indexSettled(app)
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
      await scratch.destroy()
      const res = await app.inject({ method: 'GET', url: '/readyz' })
      expect(res.statusCode).toBe(503)
      expect(res.json()).toMatchObject({ status: 503, code: 'database_unreachable' })
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    } finally {
      await app.close()
    }
  })
})
