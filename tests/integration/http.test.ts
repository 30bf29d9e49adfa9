import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { App } from '../../src/app.js'
import { buildApp } from '../../src/app.js'
import { problemResponses } from '../../src/lib/problem.js'
import { NotFoundError } from '../../src/lib/errors.js'
import { buildTestApp, capturingLogger } from '../helpers/app.js'
import { sharedDatabase, testConfig } from '../helpers/database.js'

const EchoBody = z.object({
  name: z.string().min(2),
  age: z.number().int().min(0),
  tags: z.array(z.string()).max(2).optional(),
})

/** Routes that exist only in this test, on the real app, to exercise the shared error handling. */
function addProbeRoutes(app: App) {
  app.post('/probe/echo', { schema: { body: EchoBody, response: { 200: EchoBody, ...problemResponses(400) } } }, async (req) => req.body)
  app.get('/probe/items/:id', { schema: { params: z.object({ id: z.uuid() }), querystring: z.object({ limit: z.coerce.number().int().max(10).optional() }) } }, async (req) => {
    throw new NotFoundError('item', req.params.id)
  })
  app.get('/probe/crash', async () => {
    throw new Error('secret detail: SELECT * FROM users WHERE password = hunter2')
  })
}

const expectProblem = (res: request.Response, status: number, code: string) => {
  expect(res.status).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(res.body).toMatchObject({ type: `https://therapath.dev/errors/${code}`, status, code, instance: expect.any(String), detail: expect.any(String), title: expect.any(String) })
  expect(res.body.requestId).toBe(res.headers['x-request-id'])
}

describe('HTTP basics', () => {
  let app: App
  const log = capturingLogger('info')

  beforeAll(async () => {
    app = await buildApp(testConfig({ BODY_LIMIT_BYTES: '2048', CORS_ORIGINS: 'https://app.example' }), { db: await sharedDatabase(), logger: log.logger })
    addProbeRoutes(app)
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
  })

  it('answers unknown routes with a 404 problem', async () => {
    const res = await request(app.server).get('/v1/nothing-here?x=1')
    expectProblem(res, 404, 'route_not_found')
    expect(res.body.instance).toBe('/v1/nothing-here')
    expect(res.body.detail).toBe('No route matches GET /v1/nothing-here.')
  })

  it('lists every invalid field of a body', async () => {
    const res = await request(app.server).post('/probe/echo').send({ name: 'x', age: -1, tags: ['a', 'b', 'c'], extra: true })
    expectProblem(res, 400, 'validation_failed')
    const fields = (res.body.errors as { field: string; in: string }[]).map((e) => e.field).sort()
    expect(fields).toEqual(['age', 'name', 'tags'])
    for (const error of res.body.errors) expect(error).toMatchObject({ in: 'body', message: expect.any(String), code: expect.any(String) })
  })

  it('says where an invalid value was: path and query', async () => {
    const path = await request(app.server).get('/probe/items/not-a-uuid')
    expectProblem(path, 400, 'validation_failed')
    expect(path.body.errors).toEqual([expect.objectContaining({ in: 'path', field: 'id' })])
    const query = await request(app.server).get('/probe/items/7a1e2b47-5e0c-4a53-9a6f-3f2f0c3e1b11?limit=500')
    expect(query.body.errors).toEqual([expect.objectContaining({ in: 'query', field: 'limit', code: 'too_big' })])
  })

  it('maps domain errors to their status', async () => {
    const res = await request(app.server).get('/probe/items/7a1e2b47-5e0c-4a53-9a6f-3f2f0c3e1b11')
    expectProblem(res, 404, 'not_found')
    expect(res.body.detail).toBe('item 7a1e2b47-5e0c-4a53-9a6f-3f2f0c3e1b11 not found')
  })

  it('refuses malformed JSON with 400', async () => {
    const res = await request(app.server).post('/probe/echo').set('content-type', 'application/json').send('{"name": ')
    expectProblem(res, 400, 'invalid_json')
  })

  it('refuses a body over the limit with 413', async () => {
    const res = await request(app.server).post('/probe/echo').send({ name: 'x'.repeat(5000), age: 1 })
    expectProblem(res, 413, 'body_too_large')
  })

  it('refuses an unsupported media type with 415', async () => {
    const res = await request(app.server).post('/probe/echo').set('content-type', 'text/csv').send('name,age\nab,1')
    expectProblem(res, 415, 'unsupported_media_type')
  })

  it('hides everything about an unexpected error, and logs it with the request id', async () => {
    const res = await request(app.server).get('/probe/crash').set('x-request-id', 'crash-test-1')
    expectProblem(res, 500, 'internal_error')
    expect(JSON.stringify(res.body)).not.toMatch(/secret|SELECT|password|hunter2|stack|Error:/)
    expect(res.body.requestId).toBe('crash-test-1')
    const logged = log.lines().find((line) => line.requestId === 'crash-test-1' && line.msg === 'unexpected error')
    expect(logged).toBeDefined()
    expect(JSON.stringify(logged)).toContain('secret detail')
  })

  it('echoes a safe incoming x-request-id and replaces an unsafe one', async () => {
    const kept = await request(app.server).get('/healthz').set('x-request-id', 'abc-123.DEF_4')
    expect(kept.headers['x-request-id']).toBe('abc-123.DEF_4')
    const replaced = await request(app.server).get('/healthz').set('x-request-id', 'bad id\twith spaces'.repeat(2))
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    const generated = await request(app.server).get('/healthz')
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('sends security headers and no-store on every response', async () => {
    for (const path of ['/healthz', '/v1/nothing-here']) {
      const res = await request(app.server).get(path)
      expect(res.headers['cache-control']).toBe('no-store')
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['strict-transport-security']).toMatch(/max-age=/)
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN')
      expect(res.headers['x-powered-by']).toBeUndefined()
    }
  })

  it('allows configured CORS origins only', async () => {
    const allowed = await request(app.server).options('/healthz').set('origin', 'https://app.example').set('access-control-request-method', 'GET')
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example')
    const other = await request(app.server).get('/healthz').set('origin', 'https://evil.example')
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('writes one JSON log line per request, with the route and no query string', async () => {
    await request(app.server).get('/healthz?token=should-not-appear').set('x-request-id', 'log-line-1')
    const lines = log.lines().filter((line) => line.requestId === 'log-line-1')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ msg: 'request completed', method: 'GET', route: '/healthz', path: '/healthz', status: 200 })
    expect(log.text()).not.toContain('should-not-appear')
  })

  it('redacts credentials and sensitive fields in anything logged', () => {
    const probe = capturingLogger('info')
    probe.logger.info({ req: { headers: { authorization: 'Bearer abc.def.ghi' } }, user: { password: 'hunter22hunter', email: 'a@b.c' }, entry: { body: 'dear diary' }, answers: [1, 2] }, 'probe')
    const text = probe.text()
    expect(text).not.toMatch(/abc\.def\.ghi|hunter22hunter|dear diary/)
    expect(text).toContain('a@b.c')
    expect(text).toContain('[redacted]')
  })
})

describe('CORS off by default', () => {
  it('sends no CORS headers when no origin is configured', async () => {
    const app = await buildTestApp()
    const res = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://app.example' } })
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    await app.close()
  })
})
