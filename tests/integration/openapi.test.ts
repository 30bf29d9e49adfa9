import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateOpenApiDocument } from '../../scripts/openapi-document.js'
import type { App } from '../../src/app.js'
import { buildTestApp } from '../helpers/app.js'

const committed = readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')

interface Operation {
  operationId?: string
  tags?: string[]
  summary?: string
  responses?: Record<string, { content?: Record<string, unknown> }>
}

describe('OpenAPI document', () => {
  let app: App
  beforeAll(async () => {
    app = await buildTestApp()
  })
  afterAll(async () => {
    await app.close()
  })

  it('is committed exactly as the code generates it (run `npm run openapi` after changing a route)', async () => {
    expect(await generateOpenApiDocument()).toBe(committed)
  })

  it('is served at /openapi.json, naming the server it was served by', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json', headers: { host: '127.0.0.1:4567' } })
    expect(res.statusCode).toBe(200)
    const { servers, ...served } = res.json<{ servers: { url: string }[] }>()
    const { servers: _committedServers, ...rest } = JSON.parse(committed) as { servers: unknown }
    expect(served).toEqual(rest)
    expect(servers.map((server) => server.url)).toEqual(['http://127.0.0.1:4567'])
  })

  it('gives /docs a spec whose server is the page’s own origin, so "Try it out" calls this instance', async () => {
    for (const host of ['127.0.0.1:3000', 'localhost:8123']) {
      const page = await app.inject({ method: 'GET', url: '/docs/', headers: { host } })
      expect(page.statusCode).toBe(200)
      const spec = await app.inject({ method: 'GET', url: '/docs/json', headers: { host } })
      expect(spec.statusCode).toBe(200)
      const { servers, paths } = spec.json<{ servers: { url: string }[]; paths: Record<string, unknown> }>()
      expect(servers[0]?.url).toBe(`http://${host}`)
      // One call as the UI would make it: the server URL plus a documented path, from the page's origin.
      expect(paths['/healthz']).toBeDefined()
      const url = new URL(`${servers[0]?.url ?? ''}/healthz`)
      const call = await app.inject({ method: 'GET', url: url.pathname, headers: { host: url.host, origin: `http://${host}` } })
      expect(call.statusCode).toBe(200)
      expect(url.host).toBe(host)
    }
  })

  it('gives every operation an operationId, tags, a summary and problem+json error responses', () => {
    const document = JSON.parse(committed) as { paths: Record<string, Record<string, Operation>> }
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
    )
    expect(operations.length).toBeGreaterThan(0)
    const ids = new Set<string>()
    for (const { name, operation } of operations) {
      expect(operation.operationId, name).toMatch(/^[a-z][A-Za-z]+$/)
      expect(ids.has(operation.operationId ?? ''), `${name}: duplicate operationId`).toBe(false)
      ids.add(operation.operationId ?? '')
      expect(operation.tags?.length, name).toBeGreaterThan(0)
      expect(operation.summary, name).toBeTruthy()
      const errors = Object.entries(operation.responses ?? {}).filter(([status]) => Number(status) >= 400)
      expect(errors.length, name).toBeGreaterThan(0)
      for (const [status, response] of errors) {
        // RFC 6749 fixes the token endpoint's own errors as {error, error_description}.
        const oauth = operation.operationId === 'issueClientToken' && ['400', '401'].includes(status)
        expect(Object.keys(response.content ?? {}), `${name} ${status}`).toEqual([oauth ? 'application/json' : 'application/problem+json'])
      }
    }
  })

  it('declares security on every operation, real response descriptions, response headers and request examples', () => {
    type Response = { description?: string; headers?: Record<string, unknown> }
    type Op = { security?: unknown[]; responses?: Record<string, Response>; requestBody?: { content: Record<string, { schema?: { $ref?: string; example?: unknown } }> } }
    const document = JSON.parse(committed) as { paths: Record<string, Record<string, Op>>; components: { schemas: Record<string, { example?: unknown }> } }
    const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ name: `${method} ${path}`, operation })))
    for (const { name, operation } of operations) {
      expect(Array.isArray(operation.security), name).toBe(true)
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        expect(response.description, `${name} ${status}`).not.toBe('Default Response')
        expect(Object.keys(response.headers ?? {}), `${name} ${status}`).toContain('x-request-id')
        if (status === '429') expect(Object.keys(response.headers ?? {}), `${name} ${status}`).toContain('Retry-After')
        if (status === '201') expect(Object.keys(response.headers ?? {}), `${name} ${status}`).toContain('Location')
      }
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
        const component = media.schema?.$ref ? document.components.schemas[media.schema.$ref.split('/').pop() ?? ''] : media.schema
        expect(component?.example, `${name} ${type}: request example`).toBeDefined()
      }
    }
    // Public operations say so.
    expect(document.paths['/v1/auth/register']?.post?.security).toEqual([])
    expect(document.paths['/v1/oauth/token']?.post?.requestBody?.content).toHaveProperty('application/x-www-form-urlencoded')
  })

  it('serves interactive docs at /docs', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/text\/html/)
    expect(res.body).toContain('swagger')
    const redirect = await app.inject({ method: 'GET', url: '/docs' })
    expect([200, 302]).toContain(redirect.statusCode)
  })
})
