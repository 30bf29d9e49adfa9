import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { errorType, FIELD_CODES, PROBLEM_CODES } from '../../src/lib/error-catalogue.js'
import { ProblemSchema } from '../../src/lib/problem.js'
import { prettyLogLine } from '../../src/logger.js'
import { buildTestApp } from '../helpers/app.js'
import { bearer, clientToken, registerUser, type TestUser } from '../helpers/auth.js'

/** What an integrator relies on beyond each feature: problem types and codes, conditional requests, merge patch, empty inputs. */
describe('integrator contract', () => {
  let app: App
  let curator: { authorization: string }
  let user: TestUser
  beforeAll(async () => {
    app = await buildTestApp()
    curator = bearer(await clientToken(app, ['directory:read', 'directory:write']))
    user = await registerUser(app)
  })
  afterAll(async () => {
    await app.close()
  })

  const createTherapist = async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/therapists',
      headers: curator,
      payload: { externalId: `int-${randomUUID()}`, name: 'Robin Reyes', license: { type: 'lcsw', state: 'CA' }, formats: ['telehealth'], acceptingNewClients: true },
    })
    expect(res.statusCode, res.body).toBe(201)
    return res.json<{ id: string }>().id
  }

  describe('problems', () => {
    it('carry a type URI per code, and a code from the catalogue', async () => {
      for (const [url, headers, code] of [
        ['/v1/nope', {}, 'route_not_found'],
        ['/v1/therapists', {}, 'unauthorized'],
        ['/v1/therapists?radiusKm=5', curator, 'radius_without_location'],
        [`/v1/therapists/${randomUUID()}`, curator, 'not_found'],
      ] as const) {
        const res = await app.inject({ method: 'GET', url, headers })
        const problem = ProblemSchema.parse(res.json())
        expect(problem.code, url).toBe(code)
        expect(problem.type, url).toBe(errorType(code))
        expect(problem.type).toMatch(/^https:\/\//)
        expect(PROBLEM_CODES[code].status).toBe(res.statusCode)
      }
    })

    it('name an unknown query parameter in `field`, in plain words, not the validator’s', async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/therapists?state=CA&colour=blue', headers: curator })
      expect(res.statusCode).toBe(400)
      expect(res.json().errors).toEqual([{ in: 'query', field: 'colour', message: 'Unknown parameter; remove it or check its spelling.', code: 'unrecognized_keys' }])
    })

    it('never show the validator’s own wording in `detail` or `errors[].message`', async () => {
      const cases = [
        { method: 'POST' as const, url: '/v1/journal/entries', payload: { body: '', mood: 'high', emotions: ['hurt'], extra: 1 } },
        { method: 'GET' as const, url: '/v1/journal/entries?limit=1000&from=yesterday' },
        { method: 'GET' as const, url: '/v1/journal/entries/not-a-uuid' },
      ]
      for (const { method, url, payload } of cases) {
        const res = await app.inject({ method, url, headers: user.headers, ...(payload ? { payload } : {}) })
        expect(res.statusCode, url).toBe(400)
        const problem = res.json<{ detail: string; errors: { message: string; code: string }[] }>()
        for (const text of [problem.detail, ...problem.errors.map((error) => error.message)]) {
          expect(text, url).not.toMatch(/Invalid input|expected \w+, received|Too (small|big)|Unrecognized key|Invalid (string|UUID|option)/)
        }
        for (const error of problem.errors) expect(Object.keys(FIELD_CODES), `${url}: ${error.code}`).toContain(error.code)
      }
    })

    it('answers a body that is not JSON with the catalogue’s words, not the parser’s', async () => {
      const res = await app.inject({ method: 'POST', url: '/v1/journal/entries', headers: { ...user.headers, 'content-type': 'application/json' }, payload: '{"mood": 5,' })
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ code: 'invalid_json', detail: PROBLEM_CODES.invalid_json.meaning })
    })
  })

  describe('empty inputs are mistakes, not no-ops', () => {
    it('refuses an empty or malformed Idempotency-Key', async () => {
      for (const key of ['', ' ', 'has space']) {
        const res = await app.inject({
          method: 'POST',
          url: '/v1/journal/entries',
          headers: { ...user.headers, 'idempotency-key': key },
          payload: { body: 'Idempotency check', mood: 5 },
        })
        expect(res.statusCode, JSON.stringify(key)).toBe(400)
        expect(res.json().errors).toEqual([expect.objectContaining({ in: 'header', field: 'idempotency-key' })])
      }
    })

    it('refuses an import without a single line, writing nothing', async () => {
      for (const payload of ['', '\n\n']) {
        const res = await app.inject({ method: 'POST', url: '/v1/therapists/import', headers: { ...curator, 'content-type': 'application/x-ndjson' }, payload })
        expect(res.statusCode, JSON.stringify(payload)).toBe(400)
        expect(res.json()).toMatchObject({ code: 'empty_import', type: errorType('empty_import') })
      }
    })
  })

  it('makes therapist creation safe to retry with an Idempotency-Key, per app', async () => {
    const key = randomUUID()
    const payload = { externalId: `idem-${randomUUID()}`, name: 'Ida Empotent', license: { type: 'lcsw', state: 'CA' }, formats: ['telehealth'], acceptingNewClients: true }
    const first = await app.inject({ method: 'POST', url: '/v1/therapists', headers: { ...curator, 'idempotency-key': key }, payload })
    expect(first.statusCode, first.body).toBe(201)
    const retry = await app.inject({ method: 'POST', url: '/v1/therapists', headers: { ...curator, 'idempotency-key': key }, payload })
    expect(retry.statusCode).toBe(201)
    expect(retry.headers['idempotent-replayed']).toBe('true')
    expect(retry.headers.location).toBe(first.headers.location)
    expect(retry.json().id).toBe(first.json().id)
    // The same key with another body is refused; another app's key is its own (here: a 409 for the taken externalId, not a replay).
    const changed = await app.inject({ method: 'POST', url: '/v1/therapists', headers: { ...curator, 'idempotency-key': key }, payload: { ...payload, name: 'Other' } })
    expect(changed.statusCode).toBe(422)
    const otherApp = bearer(await clientToken(app, ['directory:read', 'directory:write']))
    const other = await app.inject({ method: 'POST', url: '/v1/therapists', headers: { ...otherApp, 'idempotency-key': key }, payload })
    expect(other.statusCode).toBe(409)
    expect(other.json()).toMatchObject({ code: 'external_id_taken' })
  })

  describe('conditional requests', () => {
    it('tags vocabularies and profiles, answers 304 to a current If-None-Match, and lets apps cache them privately', async () => {
      const id = await createTherapist()
      for (const url of ['/v1/modalities', '/v1/specialties', '/v1/vocabularies', `/v1/therapists/${id}`]) {
        const first = await app.inject({ method: 'GET', url, headers: curator })
        expect(first.statusCode, url).toBe(200)
        const etag = String(first.headers.etag)
        expect(etag, url).toMatch(/^"[^"]+"$/)
        expect(first.headers['cache-control'], url).toMatch(/^private, max-age=\d+$/)
        const again = await app.inject({ method: 'GET', url, headers: { ...curator, 'if-none-match': etag } })
        expect(again.statusCode, url).toBe(304)
        expect(again.body, url).toBe('')
        expect(again.headers.etag, url).toBe(etag)
        const other = await app.inject({ method: 'GET', url, headers: { ...curator, 'if-none-match': '"something-else"' } })
        expect(other.statusCode, url).toBe(200)
      }
    })

    it('refuses a therapist PATCH or DELETE with a stale If-Match (412), and takes merge-patch+json', async () => {
      const id = await createTherapist()
      const read = await app.inject({ method: 'GET', url: `/v1/therapists/${id}`, headers: curator })
      const etag = String(read.headers.etag)
      const patched = await app.inject({
        method: 'PATCH',
        url: `/v1/therapists/${id}`,
        headers: { ...curator, 'content-type': 'application/merge-patch+json', 'if-match': etag },
        payload: JSON.stringify({ acceptingNewClients: false }),
      })
      expect(patched.statusCode, patched.body).toBe(200)
      expect(patched.json()).toMatchObject({ acceptingNewClients: false })
      const newEtag = String(patched.headers.etag)
      expect(newEtag).not.toBe(etag)
      // The PATCH answer's tag is the one a GET gives now.
      expect((await app.inject({ method: 'GET', url: `/v1/therapists/${id}`, headers: curator })).headers.etag).toBe(newEtag)

      const stale = await app.inject({ method: 'PATCH', url: `/v1/therapists/${id}`, headers: { ...curator, 'if-match': etag }, payload: { name: 'Lost Update' } })
      expect(stale.statusCode).toBe(412)
      expect(stale.json()).toMatchObject({ code: 'precondition_failed', type: errorType('precondition_failed') })
      expect((await app.inject({ method: 'GET', url: `/v1/therapists/${id}`, headers: curator })).json()).toMatchObject({ name: 'Robin Reyes' })

      expect((await app.inject({ method: 'DELETE', url: `/v1/therapists/${id}`, headers: { ...curator, 'if-match': etag } })).statusCode).toBe(412)
      expect((await app.inject({ method: 'DELETE', url: `/v1/therapists/${id}`, headers: { ...curator, 'if-match': newEtag } })).statusCode).toBe(204)
    })

    it('tags journal entries without letting anything cache them, and refuses stale writes', async () => {
      const created = await app.inject({ method: 'POST', url: '/v1/journal/entries', headers: user.headers, payload: { body: 'A first draft.', mood: 4, conflict: { response: 'withdrew' } } })
      const id = created.json<{ id: string }>().id
      const read = await app.inject({ method: 'GET', url: `/v1/journal/entries/${id}`, headers: user.headers })
      const etag = String(read.headers.etag)
      expect(etag).toMatch(/^"[^"]+"$/)
      expect(read.headers['cache-control']).toBe('no-store')
      expect((await app.inject({ method: 'GET', url: `/v1/journal/entries/${id}`, headers: { ...user.headers, 'if-none-match': etag } })).statusCode).toBe(304)

      const patched = await app.inject({
        method: 'PATCH',
        url: `/v1/journal/entries/${id}`,
        headers: { ...user.headers, 'content-type': 'application/merge-patch+json', 'if-match': etag },
        payload: JSON.stringify({ conflict: { outcome: 'We talked the next day' }, title: null }),
      })
      expect(patched.statusCode, patched.body).toBe(200)
      expect(patched.json()).toMatchObject({ conflict: { response: 'withdrew', outcome: 'We talked the next day' }, title: null })
      const newEtag = String(patched.headers.etag)
      expect(newEtag).not.toBe(etag)

      const stale = await app.inject({ method: 'PATCH', url: `/v1/journal/entries/${id}`, headers: { ...user.headers, 'if-match': etag }, payload: { mood: 9 } })
      expect(stale.statusCode).toBe(412)
      expect((await app.inject({ method: 'DELETE', url: `/v1/journal/entries/${id}`, headers: { ...user.headers, 'if-match': etag } })).statusCode).toBe(412)
      expect((await app.inject({ method: 'GET', url: `/v1/journal/entries/${id}`, headers: user.headers })).json()).toMatchObject({ mood: 4 })
      expect((await app.inject({ method: 'DELETE', url: `/v1/journal/entries/${id}`, headers: { ...user.headers, 'if-match': newEtag } })).statusCode).toBe(204)
    })

    it('takes merge-patch+json on PATCH only', async () => {
      const res = await app.inject({ method: 'POST', url: '/v1/journal/entries', headers: { ...user.headers, 'content-type': 'application/merge-patch+json' }, payload: JSON.stringify({ body: 'x', mood: 5 }) })
      expect(res.statusCode).toBe(415)
      expect(res.json()).toMatchObject({ code: 'unsupported_media_type' })
    })
  })
})

describe('LOG_FORMAT=pretty', () => {
  it('shows a JSON log line as one readable line with the same fields', () => {
    const line = JSON.stringify({ level: 30, time: '2026-11-30T12:00:01.234Z', service: 'therapath', msg: 'request completed', status: 200, route: '/v1/me' })
    expect(prettyLogLine(line)).toBe('12:00:01.234 INFO  request completed  status=200 route=/v1/me\n')
  })
})

describe('deprecation', () => {
  it('marks a deprecated operation with Deprecation, Sunset and Link headers and in the OpenAPI document', async () => {
    const app = await buildTestApp()
    try {
      const since = new Date('2026-12-01T00:00:00Z')
      const sunset = new Date('2027-06-01T00:00:00Z')
      app.get('/v1/probe-deprecated', { config: { deprecated: { since, sunset, link: 'https://example.org/changelog#probe' } }, schema: { operationId: 'probeDeprecated', summary: 'probe' } }, async () => ({ ok: true }))
      const res = await app.inject({ method: 'GET', url: '/v1/probe-deprecated' })
      expect(res.statusCode).toBe(200)
      expect(res.headers).toMatchObject({
        deprecation: `@${since.getTime() / 1000}`,
        sunset: 'Tue, 01 Jun 2027 00:00:00 GMT',
        link: '<https://example.org/changelog#probe>; rel="deprecation"; type="text/html"',
      })
      const document = app.swagger() as unknown as { paths: Record<string, { get?: { deprecated?: boolean } }> }
      expect(document.paths['/v1/probe-deprecated']?.get?.deprecated).toBe(true)
    } finally {
      await app.close()
    }
  })
})
