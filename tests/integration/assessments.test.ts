import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, buildApp } from '../../src/app.js'
import { CLOCK_SKEW_MS } from '../../src/lib/date-range.js'
import type { Scope } from '../../src/lib/scopes.js'
import { PROGRESS_MAX_POINTS } from '../../src/modules/assessments/assessments-schemas.js'
import { BUILT_IN_INSTRUMENTS } from '../../src/modules/assessments/instruments/index.js'
import { type InstrumentDefinition } from '../../src/modules/assessments/instrument-schema.js'
import { RECOMMENDATION_RULES, RecommendationRuleSchema } from '../../src/modules/assessments/recommendation-rules.js'
import { loadSigningKeys } from '../../src/modules/auth/keys.js'
import { createTokenService } from '../../src/modules/auth/tokens.js'
import { ownedRowCount } from '../helpers/account.js'
import { capturingLogger } from '../helpers/app.js'
import { bearer, clientToken, registerUser, type TestUser } from '../helpers/auth.js'
import { sharedDatabase, testConfig } from '../helpers/database.js'
import { questionnaireProblems, questionnaireResponseProblems } from '../helpers/fhir.js'

type Answer = { itemId: string; value: number }

const phq9 = (values: number[], extra: Answer[] = []): Answer[] => [...values.map((value, index) => ({ itemId: `phq9-${index + 1}`, value })), ...extra]
const gad7 = (values: number[]): Answer[] => values.map((value, index) => ({ itemId: `gad7-${index + 1}`, value }))
/** 0–3 answers adding up to `score`, filling items from the first (so PHQ-9 item 9 stays 0 up to 24). */
const spread = (items: number, score: number): number[] =>
  Array.from({ length: items }, (_, index) => Math.max(0, Math.min(3, score - 3 * index)))

const READINESS = ['stuck-in-arguments', 'doubt-worth', 'partner-dismisses', 'understand-triggers', 'carrying-weight-alone', 'deserve-support']
const readiness = (...yes: string[]): Answer[] => READINESS.map((itemId) => ({ itemId, value: yes.includes(itemId) ? 1 : 0 }))
const RED_FLAGS = ['emotionally-drained', 'mocks-growth', 'broken-promises', 'managing-their-moods', 'refuses-support']
const redFlags = (yes: string[], unsafe?: 0 | 1): Answer[] => [
  ...RED_FLAGS.map((itemId) => ({ itemId, value: yes.includes(itemId) ? 1 : 0 })),
  ...(unsafe === undefined ? [] : [{ itemId: 'feel-unsafe', value: unsafe }]),
]

const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 3600_000).toISOString()

/** A token for this user with only these scopes, signed by our own key (as a trusted IdP could restrict them). */
async function userTokenWith(user: TestUser, scopes: Scope[]): Promise<string> {
  const config = testConfig()
  const tokens = createTokenService({ keys: await loadSigningKeys(config), config })
  const { sid } = JSON.parse(Buffer.from(user.accessToken.split('.')[1] ?? '', 'base64url').toString()) as { sid: string }
  return (await tokens.issueUserToken(user.user.id, sid, scopes)).token
}

describe('assessments', () => {
  let app: App
  let user: TestUser
  const apps: App[] = []

  beforeAll(async () => {
    app = await buildApp(testConfig(), { db: await sharedDatabase() })
    user = await registerUser(app)
  })
  afterAll(async () => {
    await app.close()
    for (const other of apps) await other.close()
  })

  const take = (who: TestUser, payload: Record<string, unknown>, headers: Record<string, string> = {}, on: App = app) =>
    on.inject({ method: 'POST', url: '/v1/assessments', headers: { ...who.headers, ...headers }, payload })
  const get = (who: TestUser | string, url: string, on: App = app) =>
    on.inject({ method: 'GET', url, headers: typeof who === 'string' ? bearer(who) : who.headers })
  const count = (who: TestUser) => app.db.prisma.assessment.count({ where: { userId: who.user.id } })

  describe('instruments', () => {
    it('lists the four built-in instruments, paginated by id', async () => {
      const res = await get(user, '/v1/instruments?limit=100')
      expect(res.statusCode).toBe(200)
      const ids = res.json().data.map((instrument: { id: string }) => instrument.id)
      expect(ids).toEqual(expect.arrayContaining(['gad-7', 'phq-9', 'relationship-red-flags', 'therapy-readiness']))
      expect(ids).toEqual([...ids].sort())
      expect(res.json().data.find((instrument: { id: string }) => instrument.id === 'phq-9')).toEqual({
        id: 'phq-9',
        version: 1,
        title: 'Patient Health Questionnaire (PHQ-9)',
        shortTitle: 'PHQ-9',
        kind: 'screener',
        description: expect.stringContaining('depression'),
        itemCount: 10,
        codes: { panel: expect.objectContaining({ code: '44249-1' }), total: expect.objectContaining({ code: '44261-6' }) },
      })

      const seen: string[] = []
      let cursor: string | null = null
      do {
        const page: { data: { id: string }[]; page: { nextCursor: string | null } } = (
          await get(user, `/v1/instruments?limit=1${cursor ? `&cursor=${cursor}` : ''}`)
        ).json()
        seen.push(...page.data.map((instrument) => instrument.id))
        cursor = page.page.nextCursor
      } while (cursor)
      expect(seen).toEqual(ids)
    })

    it('serves an instrument with its items, options, scoring, bands and safety rules', async () => {
      const res = await get(user, '/v1/instruments/phq-9')
      expect(res.statusCode).toBe(200)
      const phq = res.json()
      expect(phq.items).toHaveLength(10)
      expect(phq.items[8]).toMatchObject({ id: 'phq9-9', required: true, scored: true, code: { code: '44260-8' } })
      expect(phq.scoring).toEqual({ method: 'sum', description: expect.any(String) })
      expect(phq.bands.map((band: { key: string; min: number; max: number }) => [band.key, band.min, band.max])).toEqual([
        ['none-minimal', 0, 4],
        ['mild', 5, 9],
        ['moderate', 10, 14],
        ['moderately-severe', 15, 19],
        ['severe', 20, 27],
      ])
      expect(phq.safetyRules).toEqual([expect.objectContaining({ itemId: 'phq9-9', atLeast: 1, kind: 'self-harm' })])
      expect(phq.attribution).toContain('Pfizer')

      const readinessInstrument = (await get(user, '/v1/instruments/therapy-readiness')).json()
      expect(readinessInstrument.items.map((item: { text: string }) => item.text)).toContain('I believe I deserve support, regardless of my partner’s choices.')
      expect((await get(user, '/v1/instruments/therapy-readiness?version=1')).json()).toEqual(readinessInstrument)
    })

    it('answers 404 for an unknown instrument or version, and 400 for a malformed id', async () => {
      for (const url of ['/v1/instruments/beck-depression', '/v1/instruments/phq-9?version=99', '/v1/instruments/beck-depression/fhir']) {
        const res = await get(user, url)
        expect(res.statusCode, url).toBe(404)
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      }
      expect((await get(user, '/v1/instruments/PHQ%209')).statusCode).toBe(400)
    })

    it('needs a token, of a user or an app, but no scope', async () => {
      expect((await app.inject({ method: 'GET', url: '/v1/instruments' })).statusCode).toBe(401)
      const appToken = await clientToken(app, ['directory:read'])
      expect((await get(appToken, '/v1/instruments/gad-7')).statusCode).toBe(200)
      expect((await get(await userTokenWith(user, ['journal:read']), '/v1/instruments/gad-7')).statusCode).toBe(200)
    })
  })

  describe('taking an assessment', () => {
    it('scores the readiness checklist on the server and links to directory searches', async () => {
      const res = await take(user, { instrumentId: 'therapy-readiness', answers: readiness('stuck-in-arguments', 'partner-dismisses', 'carrying-weight-alone', 'understand-triggers') })
      expect(res.statusCode).toBe(201)
      const body = res.json()
      expect(res.headers.location).toBe(`/v1/assessments/${body.id}`)
      expect(body.instrument).toEqual({ id: 'therapy-readiness', version: 1, title: 'Is Therapy Right for You Right Now?' })
      expect(body.result).toMatchObject({ score: 4, minScore: 0, maxScore: 6, band: { key: 'ready' } })
      expect(body.result.band.interpretation).toContain('therapy could be a transformative step now')
      expect(body.result.endorsedItems.map((item: { itemId: string }) => item.itemId)).toEqual([
        'stuck-in-arguments',
        'partner-dismisses',
        'understand-triggers',
        'carrying-weight-alone',
      ])
      expect(body.result.disclaimer).toContain('not a clinical test or a diagnosis')
      expect(body.answers[0]).toEqual({ itemId: 'stuck-in-arguments', question: 'I feel stuck in repetitive arguments or emotional disconnection.', value: 1, label: 'Yes' })
      expect(body.safety).toMatchObject({ alert: false, resources: [] })
      expect(body.recommendations.map((recommendation: { ruleId: string }) => recommendation.ruleId)).toEqual([
        'readiness-relationship-patterns',
        'readiness-article-approaches',
        'readiness-self-regulation',
      ])
      expect(body.recommendations[0].directorySearch.href).toBe(
        '/v1/therapists?modality=attachment-based,eft,cbt&modalityMatch=any&specialty=relationship-issues,attachment,communication&clientFocus=individuals',
      )
      expect(body.recommendations[0].rationale).toMatch(/attachment/i)
      expect(Math.abs(Date.parse(body.takenAt) - Date.now())).toBeLessThan(60_000)
    })

    it('gives fewer than three statements a gentler message', async () => {
      const body = (await take(user, { instrumentId: 'therapy-readiness', answers: readiness('doubt-worth') })).json()
      expect(body.result.band.key).toBe('not-yet')
      expect(body.result.band.interpretation).not.toContain('transformative')
    })

    it('names the red flags present and keeps the score at the count of the five signs', async () => {
      const body = (await take(user, { instrumentId: 'relationship-red-flags', answers: redFlags(['mocks-growth', 'broken-promises', 'managing-their-moods'], 0) })).json()
      expect(body.result).toMatchObject({ score: 3, band: { key: 'several', label: 'Several signs' } })
      expect(body.result.endorsedItems.map((item: { text: string }) => item.text)).toEqual([
        'Your partner mocks or minimizes your efforts to grow.',
        'There’s a pattern of broken promises (“I’ll work on it”) with no action.',
        'You feel responsible for managing their moods or behaviors.',
      ])
      expect(body.safety.alert).toBe(false)
    })

    it('allows the clock skew the journal allows on takenAt, and no more', async () => {
      const gad = { instrumentId: 'gad-7', answers: gad7([0, 0, 0, 0, 0, 0, 0]) }
      expect((await take(user, { ...gad, takenAt: new Date(Date.now() + CLOCK_SKEW_MS - 30_000).toISOString() })).statusCode).toBe(201)
      const ahead = await take(user, { ...gad, takenAt: new Date(Date.now() + CLOCK_SKEW_MS + 30_000).toISOString() })
      expect(ahead.statusCode).toBe(400)
      expect(ahead.json().errors).toEqual([expect.objectContaining({ field: 'takenAt', code: 'in_future' })])
    })

    it('accepts an earlier takenAt and the optional difficulty question', async () => {
      const takenAt = '2026-01-15T08:30:00.000+01:00'
      const body = (await take(user, { instrumentId: 'phq-9', answers: phq9(spread(9, 11), [{ itemId: 'phq9-difficulty', value: 2 }]), takenAt })).json()
      expect(body.takenAt).toBe('2026-01-15T07:30:00.000Z')
      expect(body.result).toMatchObject({ score: 11, band: { key: 'moderate' } })
      expect(body.answers.at(-1)).toMatchObject({ itemId: 'phq9-difficulty', value: 2, label: 'Very difficult' })
    })
  })

  describe('validation', () => {
    it('answers 400 naming each bad item, and stores nothing', async () => {
      const before = await count(user)
      const res = await take(user, {
        instrumentId: 'gad-7',
        answers: [...gad7([1, 1, 1, 1, 1]), { itemId: 'gad7-2', value: 0 }, { itemId: 'gad7-3', value: 5 }, { itemId: 'mood', value: 1 }],
      })
      expect(res.statusCode).toBe(400)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(res.json()).toMatchObject({ code: 'validation_failed', status: 400 })
      expect(res.json().errors).toEqual([
        { in: 'body', field: 'answers.5.itemId', message: 'Item gad7-2 is answered more than once.', code: 'duplicate_answer' },
        { in: 'body', field: 'answers.6.itemId', message: 'Item gad7-3 is answered more than once.', code: 'duplicate_answer' },
        { in: 'body', field: 'answers.6.value', message: '5 is not an answer to item gad7-3; use one of 0, 1, 2, 3.', code: 'invalid_option' },
        { in: 'body', field: 'answers.7.itemId', message: 'gad-7 has no item "mood".', code: 'unknown_item' },
        { in: 'body', field: 'answers', message: 'Item gad7-6 is required but not answered.', code: 'missing_answer' },
        { in: 'body', field: 'answers', message: 'Item gad7-7 is required but not answered.', code: 'missing_answer' },
      ])
      expect(res.json().safety).toBeUndefined()
      expect(await count(user)).toBe(before)
    })

    it('refuses unknown instruments and versions, future dates, malformed bodies', async () => {
      const cases: [Record<string, unknown>, string, string][] = [
        [{ instrumentId: 'beck-depression', answers: [] }, 'instrumentId', 'unknown_instrument'],
        [{ instrumentId: 'gad-7', instrumentVersion: 42, answers: gad7([0, 0, 0, 0, 0, 0, 0]) }, 'instrumentVersion', 'unknown_instrument'],
        [{ instrumentId: 'gad-7', answers: gad7([0, 0, 0, 0, 0, 0, 0]), takenAt: new Date(Date.now() + 3600_000).toISOString() }, 'takenAt', 'in_future'],
        [{ instrumentId: 'gad-7', answers: [{ itemId: 'gad7-1', value: '2' }] }, 'answers.0.value', 'invalid_type'],
        [{ instrumentId: 'gad-7', answers: gad7([0, 0, 0, 0, 0, 0, 0]), score: 0 }, 'score', 'unrecognized_keys'],
        [{ instrumentId: 'gad-7' }, 'answers', 'invalid_type'],
      ]
      for (const [payload, field, code] of cases) {
        const res = await take(user, payload)
        expect(res.statusCode, JSON.stringify(payload)).toBe(400)
        expect(res.json().errors, JSON.stringify(payload)).toEqual([expect.objectContaining({ field, code })])
      }
    })

    it('answers 400 for a malformed id in a path', async () => {
      expect((await get(user, '/v1/assessments/not-a-uuid')).statusCode).toBe(400)
    })
  })

  describe('safety', () => {
    it('alerts with crisis resources on PHQ-9 item 9 above 0 at the lowest total, on create, read, list and export', async () => {
      const res = await take(user, { instrumentId: 'phq-9', answers: phq9([0, 0, 0, 0, 0, 0, 0, 0, 1]) })
      expect(res.statusCode).toBe(201)
      const body = res.json()
      expect(body.result).toMatchObject({ score: 1, band: { key: 'none-minimal' } })
      expect(body.safety).toMatchObject({ alert: true, reasons: [{ ruleId: 'phq9-item9', kind: 'self-harm', itemId: 'phq9-9' }] })
      expect(body.safety.resources.map((resource: { name: string }) => resource.name)).toEqual(['988 Suicide & Crisis Lifeline', 'Emergency services'])
      expect(body.safety.resources[0]).toMatchObject({ call: '988', text: '988', chatUrl: 'https://988lifeline.org/chat' })
      expect(body.safety.notice).toContain('not a diagnosis')

      expect((await get(user, `/v1/assessments/${body.id}`)).json().safety).toEqual(body.safety)
      const listed = (await get(user, '/v1/assessments?instrumentId=phq-9&limit=100')).json().data.find((item: { id: string }) => item.id === body.id)
      expect(listed.safety).toEqual(body.safety)
      const exported = (await get(user, '/v1/me/export')).json().assessments.find((item: { id: string }) => item.id === body.id)
      expect(exported.safety).toEqual(body.safety)
      const stored = await app.db.prisma.assessment.findUnique({ where: { id: body.id } })
      expect(stored?.safetyAlert).toBe(true)
    })

    it('does not alert when item 9 is 0, even at a severe total', async () => {
      const body = (await take(user, { instrumentId: 'phq-9', answers: phq9([3, 3, 3, 3, 3, 3, 3, 3, 0]) })).json()
      expect(body.result.band.key).toBe('severe')
      expect(body.safety).toEqual({ alert: false, message: null, reasons: [], resources: [], notice: expect.any(String) })
    })

    it('alerts on every value of item 9 above 0, through HTTP', async () => {
      for (const value of [1, 2, 3]) {
        const body = (await take(user, { instrumentId: 'phq-9', answers: phq9([2, 0, 1, 0, 0, 0, 0, 0, value]) })).json()
        expect(body.safety.alert, `item 9 = ${value}`).toBe(true)
      }
    })

    it('puts the safety block in a 400 when the answers it could read call for it', async () => {
      const res = await take(user, { instrumentId: 'phq-9', answers: [{ itemId: 'phq9-9', value: 3 }], takenAt: new Date(Date.now() + 86_400_000).toISOString() })
      expect(res.statusCode).toBe(400)
      expect(res.json().errors).toHaveLength(9) // eight missing items and the future date
      expect(res.json().safety).toMatchObject({ alert: true, resources: [expect.objectContaining({ call: '988' }), expect.objectContaining({ call: '911' })] })
    })

    it('puts the safety block in a 400 the route schema raises, from the answers the raw body lets it read', async () => {
      const someone = await registerUser(app)
      const alerting = phq9([0, 0, 0, 0, 0, 0, 0, 0, 3])
      const asString = alerting.map((answer) => (answer.itemId === 'phq9-9' ? { itemId: 'phq9-9', value: '3' } : answer))
      const cases: [string, Record<string, unknown>, Record<string, string>, { field: string; code: string }][] = [
        ['item 9 sent as a string', { instrumentId: 'phq-9', answers: asString }, {}, { field: 'answers.8.value', code: 'invalid_type' }],
        ['a stray key', { instrumentId: 'phq-9', answers: alerting, score: 3 }, {}, { field: 'score', code: 'unrecognized_keys' }],
        ['a malformed takenAt', { instrumentId: 'phq-9', answers: alerting, takenAt: 'yesterday' }, {}, { field: 'takenAt', code: 'invalid_format' }],
        ['a malformed instrument id', { instrumentId: 'PHQ 9', answers: asString }, {}, { field: 'instrumentId', code: 'invalid_format' }],
        ['an invalid Idempotency-Key', { instrumentId: 'phq-9', answers: alerting }, { 'idempotency-key': 'has space' }, { field: 'idempotency-key', code: 'invalid_format' }],
      ]
      for (const [name, payload, headers, error] of cases) {
        const res = await take(someone, payload, headers)
        expect(res.statusCode, name).toBe(400)
        expect(res.json(), name).toMatchObject({ code: 'validation_failed', errors: expect.arrayContaining([expect.objectContaining(error)]) })
        expect(res.json().safety, name).toMatchObject({ alert: true, reasons: [{ ruleId: 'phq9-item9', itemId: 'phq9-9' }] })
        expect(res.json().safety.resources.map((resource: { name: string }) => resource.name), name).toEqual(['988 Suicide & Crisis Lifeline', 'Emergency services'])
      }
      // The red-flags safety question, answered "1" as a string, brings domestic-violence resources.
      const unsafe = await take(someone, { instrumentId: 'relationship-red-flags', answers: [...redFlags([]), { itemId: 'feel-unsafe', value: '1' }] })
      expect(unsafe.statusCode).toBe(400)
      expect(unsafe.json().safety.resources.map((resource: { name: string }) => resource.name)).toEqual(['National Domestic Violence Hotline', 'Emergency services'])
      // Nothing readable calls for it: the plain 400.
      const calm = await take(someone, { instrumentId: 'phq-9', answers: phq9([3, 3, 3, 3, 3, 3, 3, 3, 0]).map((answer) => ({ ...answer, value: String(answer.value) })) })
      expect(calm.statusCode).toBe(400)
      expect(calm.json().safety).toBeUndefined()
      expect(await count(someone)).toBe(0)
      expect(await app.db.prisma.idempotencyKey.count({ where: { userId: someone.user.id } })).toBe(0)
    })

    it('puts the safety block in a 400 for an unknown instrument, from any instrument the answers fit', async () => {
      const res = await take(user, { instrumentId: 'phq-8', answers: [{ itemId: 'phq9-9', value: 2 }] })
      expect(res.statusCode).toBe(400)
      expect(res.json().errors).toEqual([expect.objectContaining({ field: 'instrumentId', code: 'unknown_instrument' })])
      expect(res.json().safety).toMatchObject({ alert: true, reasons: [{ ruleId: 'phq9-item9' }] })
    })

    it('brings domestic-violence resources when the red-flags safety question is Yes', async () => {
      const body = (await take(user, { instrumentId: 'relationship-red-flags', answers: redFlags([], 1) })).json()
      expect(body.result.band.key).toBe('none')
      expect(body.safety.alert).toBe(true)
      expect(body.safety.resources.map((resource: { name: string }) => resource.name)).toEqual(['National Domestic Violence Hotline', 'Emergency services'])
      expect(body.safety.resources[0]).toMatchObject({ call: '1-800-799-7233', text: '88788', textKeyword: 'START' })
      expect(body.recommendations.map((recommendation: { ruleId: string }) => recommendation.ruleId)).toEqual(['red-flags-unsafe'])
    })

    it('uses the deployment’s configured resources', async () => {
      const resources = [
        { name: 'Samaritans', for: ['self-harm'], description: 'Call 116 123, free, any time.', call: '116 123' },
        { name: 'Refuge', for: ['domestic-violence'], description: 'Call 0808 2000 247.', call: '0808 2000 247' },
        { name: 'Emergency', for: ['self-harm', 'domestic-violence'], description: 'Call 999.', call: '999' },
      ]
      const uk = await buildApp(testConfig({ CRISIS_RESOURCES: JSON.stringify(resources) }), { db: await sharedDatabase() })
      apps.push(uk)
      const body = (await take(user, { instrumentId: 'phq-9', answers: phq9([0, 0, 0, 0, 0, 0, 0, 0, 2]) }, {}, uk)).json()
      expect(body.safety.resources.map((resource: { name: string }) => resource.name)).toEqual(['Samaritans', 'Emergency'])
    })
  })

  describe('owner isolation and scopes', () => {
    it("answers 404 for another user's result on read, FHIR and delete, and never lists it", async () => {
      const owner = await registerUser(app)
      const stranger = await registerUser(app)
      const mine = (await take(owner, { instrumentId: 'gad-7', answers: gad7([2, 2, 2, 2, 2, 2, 2]) })).json()
      for (const url of [`/v1/assessments/${mine.id}`, `/v1/assessments/${mine.id}/fhir`]) {
        const res = await get(stranger, url)
        expect(res.statusCode, url).toBe(404)
        expect(res.json().code).toBe('not_found')
      }
      expect((await app.inject({ method: 'DELETE', url: `/v1/assessments/${mine.id}`, headers: stranger.headers })).statusCode).toBe(404)
      expect((await get(stranger, '/v1/assessments?limit=100')).json().data).toEqual([])
      expect((await get(stranger, '/v1/assessments/progress?instrumentId=gad-7')).json().series).toEqual([])
      expect((await get(owner, `/v1/assessments/${mine.id}`)).statusCode).toBe(200)
      expect((await get(owner, '/v1/assessments')).json().data.map((item: { id: string }) => item.id)).toEqual([mine.id])
    })

    it('answers 403 naming the missing scope', async () => {
      const readOnly = await userTokenWith(user, ['assessments:read'])
      const writeOnly = await userTokenWith(user, ['assessments:write'])
      const post = await app.inject({ method: 'POST', url: '/v1/assessments', headers: bearer(readOnly), payload: { instrumentId: 'gad-7', answers: gad7([0, 0, 0, 0, 0, 0, 0]) } })
      expect(post.statusCode).toBe(403)
      expect(post.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'assessments:write' })
      expect(post.json().detail).toContain('assessments:write')
      const created = await take(user, { instrumentId: 'gad-7', answers: gad7([0, 0, 0, 0, 0, 0, 0]) })
      const id = created.json().id as string
      for (const url of ['/v1/assessments', `/v1/assessments/${id}`, `/v1/assessments/${id}/fhir`, '/v1/assessments/progress?instrumentId=gad-7']) {
        const res = await get(writeOnly, url)
        expect(res.statusCode, url).toBe(403)
        expect(res.json().requiredScope).toBe('assessments:read')
      }
      const del = await app.inject({ method: 'DELETE', url: `/v1/assessments/${id}`, headers: bearer(readOnly) })
      expect(del.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'assessments:write' })
    })

    it("keeps app tokens away from users' results", async () => {
      const appToken = await clientToken(app, ['directory:read', 'directory:write'])
      const post = await app.inject({ method: 'POST', url: '/v1/assessments', headers: bearer(appToken), payload: { instrumentId: 'gad-7', answers: [] } })
      expect(post.statusCode).toBe(403)
      expect(post.json().code).toBe('user_token_required')
      expect((await get(appToken, '/v1/assessments')).json().code).toBe('user_token_required')
    })
  })

  describe('history', () => {
    it('lists newest first with instrument and date filters', async () => {
      const someone = await registerUser(app)
      const at = (days: number, instrumentId: string, answers: Answer[]) => take(someone, { instrumentId, answers, takenAt: daysAgo(days) })
      const a = (await at(30, 'gad-7', gad7([1, 1, 1, 1, 1, 1, 1]))).json()
      const b = (await at(20, 'phq-9', phq9(spread(9, 6)))).json()
      const c = (await at(10, 'gad-7', gad7([0, 0, 0, 0, 0, 0, 0]))).json()
      const ids = async (query: string) => (await get(someone, `/v1/assessments?${query}`)).json().data.map((item: { id: string }) => item.id)
      expect(await ids('')).toEqual([c.id, b.id, a.id])
      expect(await ids('instrumentId=gad-7')).toEqual([c.id, a.id])
      expect(await ids(`from=${encodeURIComponent(daysAgo(25))}`)).toEqual([c.id, b.id])
      expect(await ids(`to=${encodeURIComponent(daysAgo(15))}`)).toEqual([b.id, a.id])
      expect(await ids(`from=${encodeURIComponent(daysAgo(25))}&to=${encodeURIComponent(daysAgo(15))}`)).toEqual([b.id])
      // Both ends inclusive, as everywhere in the API (this was `to` exclusive before the ranges were unified),
      // so one instant is a period too.
      expect(await ids(`from=${encodeURIComponent(b.takenAt)}&to=${encodeURIComponent(c.takenAt)}`)).toEqual([c.id, b.id])
      expect(await ids(`from=${encodeURIComponent(b.takenAt)}&to=${encodeURIComponent(b.takenAt)}`)).toEqual([b.id])
      // `from` after `to` names `from`, as the journal does.
      const bad = await get(someone, `/v1/assessments?from=${encodeURIComponent(daysAgo(1))}&to=${encodeURIComponent(daysAgo(2))}`)
      expect(bad.statusCode).toBe(400)
      expect(bad.json().errors).toEqual([expect.objectContaining({ in: 'query', field: 'from', code: 'invalid_range' })])
      expect((await get(someone, '/v1/assessments?cursor=bm9wZQ')).json().code).toBe('invalid_cursor')
    })

    it('reads plain dates as whole days in `tz`, both included', async () => {
      const someone = await registerUser(app)
      // 23:30 UTC on 31 January is 1 February in Berlin.
      const late = (await take(someone, { instrumentId: 'gad-7', answers: gad7([0, 0, 0, 0, 0, 0, 0]), takenAt: '2026-01-31T23:30:00Z' })).json()
      const early = (await take(someone, { instrumentId: 'gad-7', answers: gad7([0, 0, 0, 0, 0, 0, 0]), takenAt: '2026-01-01T00:00:00Z' })).json()
      const ids = async (query: string) => (await get(someone, `/v1/assessments?${query}`)).json().data.map((item: { id: string }) => item.id)
      expect(await ids('from=2026-01-01&to=2026-01-31')).toEqual([late.id, early.id])
      expect(await ids('from=2026-01-01&to=2026-01-31&tz=Europe/Berlin')).toEqual([early.id])
      expect(await ids('from=2026-02-01&to=2026-02-01&tz=europe/berlin')).toEqual([late.id])
      for (const query of ['from=2026-02-30', 'to=yesterday', 'tz=Mars/Olympus']) expect((await get(someone, `/v1/assessments?${query}`)).statusCode, query).toBe(400)
    })

    it('pages with a cursor that stays stable while results are added, and orders equal times by id', async () => {
      const someone = await registerUser(app)
      const sameTime = daysAgo(3)
      const created: { id: string; takenAt: string }[] = []
      for (const takenAt of [daysAgo(5), daysAgo(4), sameTime, sameTime, daysAgo(2)]) {
        created.push((await take(someone, { instrumentId: 'gad-7', answers: gad7([0, 0, 0, 0, 0, 0, 1]), takenAt })).json())
      }
      const expected = [...created].sort((x, y) => (x.takenAt === y.takenAt ? (x.id < y.id ? 1 : -1) : x.takenAt < y.takenAt ? 1 : -1)).map((item) => item.id)

      const first = (await get(someone, '/v1/assessments?limit=2')).json()
      expect(first.data.map((item: { id: string }) => item.id)).toEqual(expected.slice(0, 2))
      // A new result arrives between pages: it belongs before page one, so later pages are unaffected.
      await take(someone, { instrumentId: 'gad-7', answers: gad7([0, 0, 0, 0, 0, 0, 0]) })
      const second = (await get(someone, `/v1/assessments?limit=2&cursor=${first.page.nextCursor}`)).json()
      expect(second.data.map((item: { id: string }) => item.id)).toEqual(expected.slice(2, 4))
      const third = (await get(someone, `/v1/assessments?limit=2&cursor=${second.page.nextCursor}`)).json()
      expect(third.data.map((item: { id: string }) => item.id)).toEqual(expected.slice(4))
      expect(third.page.nextCursor).toBeNull()
    })

    it('deletes a result: 204, then gone', async () => {
      const created = (await take(user, { instrumentId: 'gad-7', answers: gad7([3, 3, 3, 3, 3, 3, 3]) })).json()
      const del = await app.inject({ method: 'DELETE', url: `/v1/assessments/${created.id}`, headers: user.headers })
      expect(del.statusCode).toBe(204)
      expect(del.body).toBe('')
      expect((await get(user, `/v1/assessments/${created.id}`)).statusCode).toBe(404)
      expect((await app.inject({ method: 'DELETE', url: `/v1/assessments/${created.id}`, headers: user.headers })).statusCode).toBe(404)
    })
  })

  describe('progress', () => {
    it('gives the series in time order, the changes, meaningful-change flags and days since the last result', async () => {
      const someone = await registerUser(app)
      // Taken out of order on purpose.
      const latest = (await take(someone, { instrumentId: 'phq-9', answers: phq9(spread(9, 9)), takenAt: daysAgo(10) })).json()
      const first = (await take(someone, { instrumentId: 'phq-9', answers: phq9(spread(9, 16)), takenAt: daysAgo(60) })).json()
      const middle = (await take(someone, { instrumentId: 'phq-9', answers: phq9(spread(9, 12)), takenAt: daysAgo(30) })).json()
      await take(someone, { instrumentId: 'gad-7', answers: gad7([3, 3, 3, 3, 3, 3, 3]), takenAt: daysAgo(1) })

      const res = await get(someone, '/v1/assessments/progress?instrumentId=phq-9')
      expect(res.statusCode).toBe(200)
      const progress = res.json()
      expect(progress.series.map((point: { assessmentId: string; score: number }) => [point.assessmentId, point.score])).toEqual([
        [first.id, 16],
        [middle.id, 12],
        [latest.id, 9],
      ])
      expect(progress.series[1].band).toEqual({ key: 'moderate', label: 'Moderate' })
      expect(progress.changeSinceFirst).toMatchObject({ points: -7, direction: 'down', better: true, meaningful: true, from: { assessmentId: first.id, score: 16 } })
      expect(progress.changeSincePrevious).toMatchObject({ points: -3, better: true, meaningful: false, from: { assessmentId: middle.id } })
      expect(progress.meaningfulChange).toMatchObject({ points: 5 })
      expect(progress.daysSinceLast).toBe(10)
      expect(progress.lastTakenAt).toBe(latest.takenAt)
      expect(progress.reassess).toEqual({ afterDays: 14, due: false })

      const anxiety = (await get(someone, '/v1/assessments/progress?instrumentId=gad-7')).json()
      expect(anxiety.series).toHaveLength(1)
      expect(anxiety.changeSinceFirst).toBeNull()
      expect(anxiety.daysSinceLast).toBe(1)
    })

    it('flags a 4-point GAD-7 change as meaningful and a 3-point one as not', async () => {
      const someone = await registerUser(app)
      await take(someone, { instrumentId: 'gad-7', answers: gad7(spread(7, 12)), takenAt: daysAgo(40) })
      await take(someone, { instrumentId: 'gad-7', answers: gad7(spread(7, 8)), takenAt: daysAgo(20) })
      await take(someone, { instrumentId: 'gad-7', answers: gad7(spread(7, 5)), takenAt: daysAgo(15) })
      const progress = (await get(someone, '/v1/assessments/progress?instrumentId=gad-7')).json()
      expect(progress.changeSinceFirst).toMatchObject({ points: -7, meaningful: true })
      expect(progress.changeSincePrevious).toMatchObject({ points: -3, meaningful: false })
      expect(progress.reassess.due).toBe(true)
    })

    it(`keeps the first result and the latest ${PROGRESS_MAX_POINTS - 1} beyond ${PROGRESS_MAX_POINTS}`, async () => {
      const someone = await registerUser(app)
      const first = (await take(someone, { instrumentId: 'gad-7', answers: gad7(spread(7, 15)), takenAt: daysAgo(2000) })).json()
      // PROGRESS_MAX_POINTS later copies of it, an hour apart, with scores 0, 1, 2, …
      const start = Date.parse(daysAgo(1500))
      await app.db.query(
        `insert into assessments (id, user_id, instrument_id, instrument_version, answers, score, band_key, result, safety_alert, taken_at)
         select gen_random_uuid(), user_id, instrument_id, instrument_version, answers, i % 22, band_key, result, safety_alert,
                $2::timestamptz + i * interval '1 hour'
           from assessments, generate_series(0, $3::int - 1) as i
          where id = $1::uuid`,
        [first.id, new Date(start).toISOString(), PROGRESS_MAX_POINTS],
      )
      const progress = (await get(someone, '/v1/assessments/progress?instrumentId=gad-7')).json()
      expect(progress.series).toHaveLength(PROGRESS_MAX_POINTS)
      expect(progress.series[0]).toMatchObject({ assessmentId: first.id, score: 15 })
      // The second result (score 0) is the one left out; the next one (score 1) follows the first.
      expect(progress.series[1]).toMatchObject({ score: 1, takenAt: new Date(start + 3600_000).toISOString() })
      expect(progress.series.at(-1)).toMatchObject({ score: (PROGRESS_MAX_POINTS - 1) % 22 })
      expect(progress.changeSinceFirst.from.assessmentId).toBe(first.id)
    })

    it('has an empty series before the first result, and refuses unknown instruments', async () => {
      const someone = await registerUser(app)
      expect((await get(someone, '/v1/assessments/progress?instrumentId=therapy-readiness')).json()).toMatchObject({
        series: [],
        daysSinceLast: null,
        reassess: { afterDays: 90, due: true },
      })
      const res = await get(someone, '/v1/assessments/progress?instrumentId=beck-depression')
      expect(res.statusCode).toBe(400)
      expect(res.json().errors).toEqual([expect.objectContaining({ in: 'query', field: 'instrumentId', code: 'unknown_instrument' })])
      expect((await get(someone, '/v1/assessments/progress')).statusCode).toBe(400)
    })
  })

  describe('FHIR', () => {
    it('serves every instrument as a valid R4 Questionnaire', async () => {
      for (const instrument of BUILT_IN_INSTRUMENTS) {
        const res = await get(user, `/v1/instruments/${instrument.id}/fhir`)
        expect(res.statusCode).toBe(200)
        expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/)
        expect(questionnaireProblems(res.json()), instrument.id).toEqual([])
        expect(res.json()).toMatchObject({ resourceType: 'Questionnaire', id: instrument.id, version: '1', url: `http://localhost:3000/v1/instruments/${instrument.id}/fhir` })
      }
    })

    it('serves a result as a valid R4 QuestionnaireResponse matching its Questionnaire', async () => {
      for (const [instrumentId, answers] of [
        ['phq-9', phq9([0, 1, 2, 3, 0, 1, 2, 3, 1], [{ itemId: 'phq9-difficulty', value: 3 }])],
        ['gad-7', gad7([1, 2, 3, 0, 1, 2, 3])],
        ['therapy-readiness', readiness('doubt-worth')],
        ['relationship-red-flags', redFlags(['refuses-support'], 1)],
      ] as [string, Answer[]][]) {
        const created = (await take(user, { instrumentId, answers })).json()
        const res = await get(user, `/v1/assessments/${created.id}/fhir`)
        expect(res.statusCode).toBe(200)
        expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/)
        const questionnaire = (await get(user, `/v1/instruments/${instrumentId}/fhir`)).json()
        expect(questionnaireResponseProblems(res.json(), questionnaire), instrumentId).toEqual([])
        expect(res.json()).toMatchObject({ resourceType: 'QuestionnaireResponse', id: created.id, status: 'completed', authored: created.takenAt })
        expect(res.json().item.at(-1)).toEqual({ linkId: 'total-score', text: 'Total score', answer: [{ valueInteger: created.result.score }] })
      }
    })
  })

  describe('Idempotency-Key on POST /v1/assessments', () => {
    const body = { instrumentId: 'gad-7', answers: gad7([1, 0, 1, 0, 1, 0, 1]) }

    it('returns the first result to a retry and stores one record', async () => {
      const someone = await registerUser(app)
      const key = randomUUID()
      const first = await take(someone, body, { 'idempotency-key': key })
      const retry = await take(someone, { answers: body.answers, instrumentId: body.instrumentId }, { 'idempotency-key': key })
      expect(first.statusCode).toBe(201)
      expect(retry.statusCode).toBe(201)
      expect(retry.json()).toEqual(first.json())
      expect(retry.headers.location).toBe(first.headers.location)
      expect(retry.headers['idempotent-replayed']).toBe('true')
      expect(await count(someone)).toBe(1)
    })

    it('keeps only the id with the key: a retry after DELETE answers 404 and brings nothing back', async () => {
      const someone = await registerUser(app)
      const key = randomUUID()
      const alerting = { instrumentId: 'phq-9', answers: phq9([1, 1, 1, 1, 1, 1, 1, 1, 2]) }
      const first = await take(someone, alerting, { 'idempotency-key': key })
      expect(first.statusCode).toBe(201)
      const stored = await app.db.query<{ row: string }>(`select k::text as row from idempotency_keys k where user_id = $1`, [someone.user.id])
      expect(stored).toHaveLength(1)
      for (const secret of ['phq9-9', '"value"', '"score"', 'Lifeline']) expect(stored[0]?.row, secret).not.toContain(secret)
      expect((await app.db.prisma.idempotencyKey.findFirst({ where: { userId: someone.user.id } }))?.responseBody).toEqual({ id: first.json().id })

      expect((await app.inject({ method: 'DELETE', url: `/v1/assessments/${first.json().id}`, headers: someone.headers })).statusCode).toBe(204)
      const retry = await take(someone, alerting, { 'idempotency-key': key })
      expect(retry.statusCode).toBe(404)
      expect(retry.json().code).toBe('not_found')
      expect(await count(someone)).toBe(0)
    })

    it('stores one record when two identical requests arrive at once', async () => {
      const someone = await registerUser(app)
      const key = randomUUID()
      const [a, b] = await Promise.all([take(someone, body, { 'idempotency-key': key }), take(someone, body, { 'idempotency-key': key })])
      expect([a.statusCode, b.statusCode]).toEqual([201, 201])
      expect(a.json().id).toBe(b.json().id)
      expect(await count(someone)).toBe(1)
    })

    it('refuses the same key with another body (422), and a rejected first attempt frees the key', async () => {
      const someone = await registerUser(app)
      const key = randomUUID()
      expect((await take(someone, { ...body, answers: [] }, { 'idempotency-key': key })).statusCode).toBe(400)
      expect((await take(someone, body, { 'idempotency-key': key })).statusCode).toBe(201)
      const other = await take(someone, { ...body, answers: gad7([3, 3, 3, 3, 3, 3, 3]) }, { 'idempotency-key': key })
      expect(other.statusCode).toBe(422)
      expect(other.json().code).toBe('idempotency_key_reused')
      expect(await count(someone)).toBe(1)
    })
  })

  describe('account export and deletion', () => {
    it('exports every result as the API shows it, only with assessments:read', async () => {
      const someone = await registerUser(app)
      const a = (await take(someone, { instrumentId: 'therapy-readiness', answers: readiness('doubt-worth', 'deserve-support', 'partner-dismisses') })).json()
      const b = (await take(someone, { instrumentId: 'phq-9', answers: phq9(spread(9, 3)), takenAt: daysAgo(3) })).json()
      const exported = (await get(someone, '/v1/me/export')).json()
      expect(exported.assessments).toEqual([a, b])
      expect(exported.omittedSections).not.toContain('assessments')
      const limited = (await get(await userTokenWith(someone, ['journal:read']), '/v1/me/export')).json()
      expect(limited.assessments).toBeUndefined()
      expect(limited.omittedSections).toContain('assessments')
    })

    it('deletes every result with the account, and keeps the instrument versions', async () => {
      const someone = await registerUser(app)
      await take(someone, { instrumentId: 'phq-9', answers: phq9([1, 1, 1, 1, 1, 1, 1, 1, 1]) })
      await take(someone, { instrumentId: 'gad-7', answers: gad7([1, 1, 1, 1, 1, 1, 1]) }, { 'idempotency-key': randomUUID() })
      expect(await ownedRowCount(app, someone.user.id)).toMatchObject({ assessments: 2 })
      expect((await app.inject({ method: 'DELETE', url: '/v1/me', headers: someone.headers })).statusCode).toBe(204)
      expect(await ownedRowCount(app, someone.user.id)).toEqual({})
      expect(await app.db.prisma.instrumentVersion.count({ where: { instrumentId: { in: ['phq-9', 'gad-7'] } } })).toBe(2)
    })
  })

  describe('instruments are data', () => {
    /** A new instrument and a rule for it, written as JSON: no code anywhere knows them. */
    function customInstrument(id: string, version: number, overrides: Record<string, unknown> = {}): InstrumentDefinition {
      const scale = [
        { value: 1, label: 'Rarely' },
        { value: 2, label: 'Sometimes' },
        { value: 3, label: 'Often' },
      ]
      const json = JSON.stringify({
        id,
        version,
        title: 'Weekly boundaries check-in',
        shortTitle: 'Boundaries check-in',
        kind: 'checklist',
        description: 'Three questions about saying no, asked weekly.',
        instructions: 'In the last week, how often…',
        disclaimer: 'A reflection aid, not a diagnosis.',
        source: { citation: 'Written for this test.' },
        attribution: null,
        codes: {},
        items: [
          { id: 'said-no', text: 'I said no when I meant no.', required: true, scored: true, reverseScored: true, options: scale },
          { id: 'guilt', text: 'I felt guilty for having needs.', required: true, scored: true, reverseScored: false, options: scale },
          { id: 'afraid', text: 'I was afraid of how my partner would react.', required: false, scored: false, reverseScored: false, options: scale },
        ],
        scoring: { method: 'sum', description: 'Sum of the two scored items; "said no" counts in reverse.' },
        listEndorsedItems: false,
        bands: [
          { key: 'steady', min: 2, max: 3, label: 'Steady', interpretation: 'Your boundaries held this week.' },
          { key: 'strained', min: 4, max: 6, label: 'Strained', interpretation: 'Your boundaries were under strain this week.' },
        ],
        safetyRules: [{ id: 'afraid-of-partner', kind: 'domestic-violence', itemId: 'afraid', atLeast: 3, message: 'You said you were often afraid of your partner.' }],
        progress: { higherIsBetter: false, meaningfulChange: { points: 2, source: 'A test threshold.' }, reassessAfterDays: 7 },
        ...overrides,
      })
      return JSON.parse(json) as InstrumentDefinition
    }

    it('adds a new instrument, its safety rule and its recommendation without code', async () => {
      const id = `check-in-${randomUUID().slice(0, 8)}`
      const rule = RecommendationRuleSchema.parse(
        JSON.parse(
          JSON.stringify({
            id: 'check-in-strained',
            instrumentId: id,
            bands: ['strained'],
            title: 'Boundaries work',
            rationale: 'Strained boundaries week after week are worth working on with a therapist who focuses on them.',
            modalities: ['cbt'],
            specialties: ['boundaries'],
            clientFocus: ['individuals'],
          }),
        ),
      )
      const withCustom = await buildApp(testConfig(), {
        db: await sharedDatabase(),
        assessments: { instruments: [...BUILT_IN_INSTRUMENTS, customInstrument(id, 1)], rules: [...RECOMMENDATION_RULES, rule] },
      })
      apps.push(withCustom)
      const someone = await registerUser(withCustom)

      const listed = (await get(someone, '/v1/instruments?limit=100', withCustom)).json().data.map((instrument: { id: string }) => instrument.id)
      expect(listed).toContain(id)
      expect(questionnaireProblems((await get(someone, `/v1/instruments/${id}/fhir`, withCustom)).json())).toEqual([])

      // "said no" Rarely (1) counts as 3 in reverse; guilt Often (3): 6 → strained.
      const strained = await take(someone, { instrumentId: id, answers: [{ itemId: 'said-no', value: 1 }, { itemId: 'guilt', value: 3 }] }, {}, withCustom)
      expect(strained.statusCode).toBe(201)
      expect(strained.json().result).toMatchObject({ score: 6, minScore: 2, maxScore: 6, band: { key: 'strained' } })
      expect(strained.json().recommendations).toEqual([expect.objectContaining({ ruleId: 'check-in-strained', directorySearch: { href: '/v1/therapists?modality=cbt&specialty=boundaries&clientFocus=individuals' } })])
      expect(strained.json().safety.alert).toBe(false)

      const steady = await take(
        someone,
        { instrumentId: id, answers: [{ itemId: 'said-no', value: 3 }, { itemId: 'guilt', value: 1 }, { itemId: 'afraid', value: 3 }], takenAt: new Date().toISOString() },
        {},
        withCustom,
      )
      expect(steady.json().result).toMatchObject({ score: 2, band: { key: 'steady' } })
      expect(steady.json().safety).toMatchObject({ alert: true, reasons: [{ ruleId: 'afraid-of-partner' }] })
      expect(steady.json().safety.resources.map((resource: { name: string }) => resource.name)).toContain('National Domestic Violence Hotline')

      const progress = (await get(someone, `/v1/assessments/progress?instrumentId=${id}`, withCustom)).json()
      expect(progress.changeSinceFirst).toMatchObject({ points: -4, better: true, meaningful: true })
      expect(progress.reassess.afterDays).toBe(7)

      const response = (await get(someone, `/v1/assessments/${steady.json().id}/fhir`, withCustom)).json()
      expect(questionnaireResponseProblems(response, (await get(someone, `/v1/instruments/${id}/fhir`, withCustom)).json())).toEqual([])
    })

    it('refuses to start with an inconsistent instrument', async () => {
      const broken = customInstrument(`broken-${randomUUID().slice(0, 8)}`, 1, {
        bands: [{ key: 'all', min: 0, max: 6, label: 'All', interpretation: 'x' }],
      })
      await expect(buildApp(testConfig(), { db: await sharedDatabase(), assessments: { instruments: [broken] } })).rejects.toThrow(/band all starts at 0, expected 2/)
    })

    it('keeps the version a result was scored with when a new version is released, and refuses to edit a released one', async () => {
      const id = `versioned-${randomUUID().slice(0, 8)}`
      const v1 = customInstrument(id, 1)
      const v2 = customInstrument(id, 2, {
        items: [
          { ...v1.items[0], text: 'I said no when I meant it.' },
          { ...v1.items[1], scored: true },
          v1.items[2],
        ],
        bands: [
          { key: 'steady', min: 2, max: 4, label: 'Steady', interpretation: 'Mostly steady.' },
          { key: 'strained', min: 5, max: 6, label: 'Strained', interpretation: 'Under strain.' },
        ],
      })
      const db = await sharedDatabase()
      const first = await buildApp(testConfig(), { db, assessments: { instruments: [v1] } })
      apps.push(first)
      const someone = await registerUser(first)
      const answers = [{ itemId: 'said-no', value: 2 }, { itemId: 'guilt', value: 2 }] // 4 points
      const old = (await take(someone, { instrumentId: id, answers }, {}, first)).json()
      expect(old).toMatchObject({ instrument: { version: 1 }, result: { score: 4, band: { key: 'strained' } } })

      const second = await buildApp(testConfig(), { db, assessments: { instruments: [v1, v2] } })
      apps.push(second)
      const fresh = (await take(someone, { instrumentId: id, answers }, {}, second)).json()
      expect(fresh).toMatchObject({ instrument: { version: 2 }, result: { score: 4, band: { key: 'steady' } } })
      expect(fresh.answers[0].question).toBe('I said no when I meant it.')
      const pinned = (await take(someone, { instrumentId: id, instrumentVersion: 1, answers }, {}, second)).json()
      expect(pinned.instrument.version).toBe(1)

      // v1 leaves the code: the old result still reads exactly as it was scored.
      const third = await buildApp(testConfig(), { db, assessments: { instruments: [v2] } })
      apps.push(third)
      const again = (await get(someone, `/v1/assessments/${old.id}`, third)).json()
      expect(again).toEqual(old)
      expect((await get(someone, `/v1/instruments/${id}`, third)).json().version).toBe(2)
      expect((await get(someone, `/v1/instruments/${id}?version=1`, third)).json().items[0].text).toBe('I said no when I meant no.')
      const oldFhir = (await get(someone, `/v1/assessments/${old.id}/fhir`, third)).json()
      expect(oldFhir.questionnaire).toBe(`http://localhost:3000/v1/instruments/${id}/fhir|1`)
      expect(questionnaireResponseProblems(oldFhir, (await get(someone, `/v1/instruments/${id}/fhir?version=1`, third)).json())).toEqual([])
      const progress = (await get(someone, `/v1/assessments/progress?instrumentId=${id}`, third)).json()
      expect(progress.series.map((point: { instrumentVersion: number }) => point.instrumentVersion)).toEqual([1, 2, 1])

      // Version 2 edited in place: the released version is served, and the edit is logged as an error.
      const capture = capturingLogger('error')
      const edited = customInstrument(id, 2, { title: 'Edited without a new version', bands: v2.bands, items: v2.items })
      const fourth = await buildApp(testConfig(), { db, logger: capture.logger, assessments: { instruments: [edited] } })
      apps.push(fourth)
      expect((await get(someone, `/v1/instruments/${id}`, fourth)).json().title).toBe('Weekly boundaries check-in')
      expect(capture.lines()).toEqual([expect.objectContaining({ level: 50, instrumentId: id, version: 2 })])
    })
  })

  it('logs ids only: never answers, scores or safety details', async () => {
    const capture = capturingLogger('debug')
    const logged = await buildApp(testConfig(), { db: await sharedDatabase(), logger: capture.logger })
    apps.push(logged)
    const someone = await registerUser(logged)
    const created = (await take(someone, { instrumentId: 'phq-9', answers: phq9([3, 2, 1, 0, 3, 2, 1, 0, 2]) }, {}, logged)).json()
    await get(someone, `/v1/assessments/${created.id}`, logged)
    await take(someone, { instrumentId: 'phq-9', answers: [{ itemId: 'phq9-9', value: 3 }] }, {}, logged)
    const text = capture.text()
    expect(text).toContain(created.id)
    for (const secret of ['phq9-9', 'Several days', 'More than half', '"score"', 'hurting', 'Lifeline', someone.user.id]) expect(text, secret).not.toContain(secret)
  })
})
