import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, buildApp } from '../../src/app.js'
import { erasedChain } from '../../src/lib/access-trail.js'
import { verifyAccessChains } from '../../src/lib/access-trail-verify.js'
import { rotateJournalKeys } from '../../src/modules/journal/journal-rotation.js'
import { loadJournalKeys } from '../../src/modules/journal/journal-keys.js'
import { bearer, PASSWORD, registerUser, type TestUser, uniqueEmail } from '../helpers/auth.js'
import { sharedDatabase, TEST_JOURNAL_KEY, testConfig } from '../helpers/database.js'
import { writeEntry } from '../helpers/journal.js'

/**
 * The access trail (README, "Privacy"): every user-data route records who did what, in the same
 * transaction as the work; the records chain per user and cannot be changed; the user reads them at
 * GET /v1/me/access-log; account deletion leaves one record keyed by a hash.
 */

interface TrailRow {
  seq: bigint
  action: string
  resourceType: string
  resourceId: string | null
  principalKind: string
  principalId: string | null
  requestId: string | null
  itemCount: number | null
}

const PHQ9 = (item9: number) => ({
  instrumentId: 'phq-9',
  answers: Array.from({ length: 9 }, (_, i) => ({ itemId: `phq9-${i + 1}`, value: i === 8 ? item9 : 1 })),
})

describe('access trail', () => {
  let app: App
  let jwksServer: Server
  let idpKey: CryptoKey
  const idpIssuer = 'https://id.acme.example'

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true })
    idpKey = pair.privateKey
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'acme-1', alg: 'RS256', use: 'sig' }
    jwksServer = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ keys: [publicJwk] }))
    })
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
    const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`
    const issuers = [{ issuer: idpIssuer, jwksUrl, audience: 'therapath', name: 'Acme Wellbeing' }]
    app = await buildApp(testConfig({ AUTH_TRUSTED_ISSUERS: JSON.stringify(issuers), JOURNAL_RETENTION_MAX_DAYS: '3650' }), { db: await sharedDatabase() })
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    await new Promise((resolve) => jwksServer.close(resolve))
  })

  const acmeToken = (sub: string) =>
    new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'acme-1' }).setIssuer(idpIssuer).setAudience('therapath').setSubject(sub).setIssuedAt().setExpirationTime('5m').sign(idpKey)

  const trail = (userId: string): Promise<TrailRow[]> =>
    app.db.prisma.accessRecord.findMany({
      where: { chain: userId },
      orderBy: { seq: 'asc' },
      select: { seq: true, action: true, resourceType: true, resourceId: true, principalKind: true, principalId: true, requestId: true, itemCount: true },
    })

  const inject = (user: TestUser, method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: method as 'GET', url, headers: { ...user.headers, ...headers }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) })

  describe('every user-data route records', () => {
    /**
     * Each route that acts on a user's data (user tokens only, or the account's sign-up, sign-in and
     * sign-out), how to call it, and the record it must leave. A new such route fails the first test
     * until it is added here, and then the second until it records.
     */
    type Fixture = (user: TestUser, ids: { entry: string; assessment: string }) => Promise<{ statusCode: number; body: string }>
    const FIXTURES: Record<string, { call: Fixture; expect: Partial<TrailRow> }> = {
      'POST /v1/auth/register': {
        call: () => app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: uniqueEmail(), password: PASSWORD } }),
        expect: { action: 'create', resourceType: 'account' },
      },
      'POST /v1/auth/login': {
        call: (user) => app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: user.user.email, password: PASSWORD } }),
        expect: { action: 'create', resourceType: 'session' },
      },
      'POST /v1/auth/logout': {
        call: (user) => app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refreshToken: user.refreshToken } }),
        expect: { action: 'delete', resourceType: 'session' },
      },
      'GET /v1/me': { call: (user) => inject(user, 'GET', '/v1/me'), expect: { action: 'read', resourceType: 'account' } },
      'GET /v1/me/export': { call: (user) => inject(user, 'GET', '/v1/me/export'), expect: { action: 'export', resourceType: 'account' } },
      'DELETE /v1/me': { call: (user) => inject(user, 'DELETE', '/v1/me'), expect: { action: 'delete', resourceType: 'account' } },
      'GET /v1/me/access-log': { call: (user) => inject(user, 'GET', '/v1/me/access-log'), expect: { action: 'read', resourceType: 'access_log' } },
      'GET /v1/me/settings': { call: (user) => inject(user, 'GET', '/v1/me/settings'), expect: { action: 'read', resourceType: 'settings' } },
      'PATCH /v1/me/settings': {
        call: (user) => inject(user, 'PATCH', '/v1/me/settings', { journalRetentionDays: 365 }),
        expect: { action: 'update', resourceType: 'settings' },
      },
      'POST /v1/journal/entries': {
        call: (user) => inject(user, 'POST', '/v1/journal/entries', { body: 'A walk by the river.', mood: 6 }),
        expect: { action: 'create', resourceType: 'journal_entry' },
      },
      'GET /v1/journal/entries': { call: (user) => inject(user, 'GET', '/v1/journal/entries'), expect: { action: 'read', resourceType: 'journal_entries', itemCount: 1 } },
      'GET /v1/journal/entries/{id}': {
        call: (user, ids) => inject(user, 'GET', `/v1/journal/entries/${ids.entry}`),
        expect: { action: 'read', resourceType: 'journal_entry' },
      },
      'PATCH /v1/journal/entries/{id}': {
        call: (user, ids) => inject(user, 'PATCH', `/v1/journal/entries/${ids.entry}`, { mood: 7 }),
        expect: { action: 'update', resourceType: 'journal_entry' },
      },
      'DELETE /v1/journal/entries/{id}': {
        call: (user, ids) => inject(user, 'DELETE', `/v1/journal/entries/${ids.entry}`),
        expect: { action: 'delete', resourceType: 'journal_entry' },
      },
      'GET /v1/journal/insights': { call: (user) => inject(user, 'GET', '/v1/journal/insights'), expect: { action: 'read', resourceType: 'journal_insights' } },
      'POST /v1/assessments': { call: (user) => inject(user, 'POST', '/v1/assessments', PHQ9(0)), expect: { action: 'create', resourceType: 'assessment' } },
      'GET /v1/assessments': { call: (user) => inject(user, 'GET', '/v1/assessments'), expect: { action: 'read', resourceType: 'assessments', itemCount: 1 } },
      'GET /v1/assessments/progress': {
        call: (user) => inject(user, 'GET', '/v1/assessments/progress?instrumentId=phq-9'),
        expect: { action: 'read', resourceType: 'assessments' },
      },
      'GET /v1/assessments/{id}': {
        call: (user, ids) => inject(user, 'GET', `/v1/assessments/${ids.assessment}`),
        expect: { action: 'read', resourceType: 'assessment' },
      },
      'GET /v1/assessments/{id}/fhir': {
        call: (user, ids) => inject(user, 'GET', `/v1/assessments/${ids.assessment}/fhir`),
        expect: { action: 'read', resourceType: 'assessment' },
      },
      'DELETE /v1/assessments/{id}': {
        call: (user, ids) => inject(user, 'DELETE', `/v1/assessments/${ids.assessment}`),
        expect: { action: 'delete', resourceType: 'assessment' },
      },
    }
    /** Routes without a token that touch no user's data, or (refresh) deliberately not recorded; README says why. */
    const NOT_USER_DATA = new Set([
      'POST /v1/auth/refresh', // rotates a session's token every 15 minutes; the sign-in that started the session is recorded
      'POST /v1/oauth/token',
      'GET /.well-known/jwks.json',
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'GET /openapi.json',
    ])

    /** The routes from the app's own OpenAPI document: a user-data route is one only user tokens may call. */
    function userDataRoutes(): { userData: string[]; unaccounted: string[] } {
      const paths = (app.swagger() as { paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>> }).paths
      const userData: string[] = []
      const unaccounted: string[] = []
      for (const [path, operations] of Object.entries(paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          const key = `${method.toUpperCase()} ${path}`
          const security = operation.security ?? []
          const userOnly = security.length > 0 && security.every((requirement) => Object.keys(requirement).every((name) => name === 'bearerAuth'))
          if (userOnly || key in FIXTURES) userData.push(key)
          else if (security.length === 0 && !NOT_USER_DATA.has(key)) unaccounted.push(key)
        }
      }
      return { userData, unaccounted }
    }

    it('knows every route that acts on user data, from the app itself', () => {
      const { userData, unaccounted } = userDataRoutes()
      expect(userData.length).toBeGreaterThan(15)
      expect(userData.filter((route) => !(route in FIXTURES)), 'add a fixture (and a record) for these user-data routes').toEqual([])
      expect(unaccounted, 'routes without a token: add to FIXTURES if they touch user data, else to NOT_USER_DATA').toEqual([])
    })

    it.each(Object.keys(FIXTURES))('%s writes its record, with the request id and no content', async (route) => {
      const user = await registerUser(app)
      const entry = await writeEntry(app, user, { body: 'Content that must never reach the trail.', mood: 4 })
      const assessment = (await inject(user, 'POST', '/v1/assessments', PHQ9(0))).json<{ id: string }>()
      const before = await trail(user.user.id)
      const requestId = `trail-${randomUUID()}`
      const fixture = FIXTURES[route]!
      const res = await fixture.call({ ...user, headers: { ...user.headers, 'x-request-id': requestId } } as TestUser, { entry: entry.id, assessment: assessment.id })
      expect(res.statusCode, res.body).toBeLessThan(300)

      if (route === 'DELETE /v1/me') {
        expect(await trail(user.user.id)).toEqual([])
        const kept = await app.db.prisma.accessRecord.findMany({ where: { chain: erasedChain(user.user.id) } })
        expect(kept).toHaveLength(1)
        expect(kept[0]).toMatchObject({ userId: null, action: 'delete', resourceType: 'account', resourceId: null, principalKind: 'user', principalId: null, requestId })
        expect(JSON.stringify(kept, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).not.toContain(user.user.id)
        return
      }
      const subject = route === 'POST /v1/auth/register' ? res.body && (JSON.parse(res.body) as { user: { id: string } }).user.id : user.user.id
      const after = await trail(subject)
      const added = route === 'POST /v1/auth/register' ? after : after.slice(before.length)
      expect(added.find((row) => row.action === fixture.expect.action && row.resourceType === fixture.expect.resourceType)).toMatchObject({
        ...fixture.expect,
        principalKind: 'user',
        principalId: null,
        // The sign-in routes are called without the user's headers here; the rest carry the request id sent.
        ...(route.startsWith('POST /v1/auth/') ? {} : { requestId }),
      })
      const stored = JSON.stringify(await app.db.prisma.accessRecord.findMany({ where: { chain: subject } }), (_k, v: unknown) =>
        typeof v === 'bigint' ? v.toString() : v,
      )
      expect(stored).not.toContain('Content that must never reach the trail')
    })

    it('records nothing for another user’s item, which answers 404', async () => {
      const [alice, bob] = await Promise.all([registerUser(app), registerUser(app)])
      const entry = await writeEntry(app, bob)
      const [aliceBefore, bobBefore] = [(await trail(alice.user.id)).length, (await trail(bob.user.id)).length]
      for (const method of ['GET', 'PATCH', 'DELETE']) {
        expect((await inject(alice, method, `/v1/journal/entries/${entry.id}`, method === 'PATCH' ? { mood: 1 } : undefined)).statusCode).toBe(404)
      }
      expect(await trail(alice.user.id)).toHaveLength(aliceBefore)
      expect(await trail(bob.user.id)).toHaveLength(bobBefore)
    })

    it('names a trusted issuer as the principal, and an operator command', async () => {
      const sub = `trail-${randomUUID()}`
      const token = await acmeToken(sub)
      const me = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })
      expect(me.statusCode).toBe(200)
      const userId = me.json<{ id: string }>().id
      const created = await app.inject({
        method: 'POST',
        url: '/v1/journal/entries',
        headers: bearer(token),
        payload: { body: 'Talked it through.', mood: 7, occurredAt: '2026-11-03T18:00:00Z' },
      })
      const entryId = created.json<{ id: string }>().id
      expect((await app.inject({ method: 'GET', url: `/v1/journal/entries/${entryId}`, headers: bearer(token) })).statusCode).toBe(200)
      const rows = await trail(userId)
      expect(rows.map((row) => [row.principalKind, row.principalId, row.action, row.resourceType])).toEqual([
        ['issuer', idpIssuer, 'create', 'account'],
        ['issuer', idpIssuer, 'read', 'account'],
        ['issuer', idpIssuer, 'create', 'journal_entry'],
        ['issuer', idpIssuer, 'read', 'journal_entry'],
      ])
      const log = await app.inject({ method: 'GET', url: '/v1/me/access-log', headers: bearer(token) })
      expect(log.json<{ data: { description: string }[] }>().data.map((record) => record.description)).toContain(
        'Acme Wellbeing read your journal entry of 3 Nov',
      )

      // Key rotation (an operator's command) records each entry it re-seals.
      const rotated = loadJournalKeys(testConfig({ JOURNAL_ENCRYPTION_KEYS: `trail-new:${Buffer.alloc(32, 7).toString('base64')},${TEST_JOURNAL_KEY}` }))
      await rotateJournalKeys(app.db.prisma, rotated, { batchSize: 1000 })
      const rotatedRows = (await trail(userId)).filter((row) => row.principalKind === 'operator')
      expect(rotatedRows).toEqual([expect.objectContaining({ principalId: 'journal:rotate-key', action: 'update', resourceType: 'journal_entry', resourceId: entryId })])
      // Put every entry of the run back on the test key, so the other files read them.
      await rotateJournalKeys(app.db.prisma, loadJournalKeys(testConfig({ JOURNAL_ENCRYPTION_KEYS: `${TEST_JOURNAL_KEY},trail-new:${Buffer.alloc(32, 7).toString('base64')}` })), {
        batchSize: 1000,
      })
    })
  })

  describe('reads are recorded reliably', () => {
    it('keeps the record of a read whose entry cannot be decrypted (served marked unreadable)', async () => {
      const user = await registerUser(app)
      const entry = await writeEntry(app, user)
      // Corrupt the ciphertext: the read's query succeeds, the decryption after it fails.
      await app.db.query(`update journal_entries set body_enc = set_byte(body_enc, 20, (get_byte(body_enc, 20) + 1) % 256) where id = $1::uuid`, [entry.id])
      const res = await inject(user, 'GET', `/v1/journal/entries/${entry.id}`, undefined, { 'x-request-id': 'failing-read-1' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ unreadable: true, unreadableCode: 'journal_text_not_authentic', body: '' })
      const rows = await trail(user.user.id)
      expect(rows.at(-1)).toMatchObject({ action: 'read', resourceType: 'journal_entry', resourceId: entry.id, requestId: 'failing-read-1' })
      await app.db.prisma.journalEntry.deleteMany({ where: { id: entry.id } })
    })

    it('fails the read, and returns nothing, when its record cannot be written', async () => {
      const user = await registerUser(app)
      const entry = await writeEntry(app, user)
      // The trail refuses this one record (a constraint that fails only for this request id).
      await app.db.query(`alter table access_records add constraint trail_test_block check (request_id is distinct from 'blocked-read')`)
      try {
        const res = await inject(user, 'GET', `/v1/journal/entries/${entry.id}`, undefined, { 'x-request-id': 'blocked-read' })
        expect(res.statusCode).toBe(500)
        expect(res.body).not.toContain('An ordinary day')
      } finally {
        await app.db.query('alter table access_records drop constraint trail_test_block')
      }
    })
  })

  describe('append-only, with a hash chain per user', () => {
    it('refuses UPDATE, DELETE and TRUNCATE', async () => {
      const user = await registerUser(app)
      await expect(app.db.query(`update access_records set action = 'read' where chain = $1`, [user.user.id])).rejects.toThrow(/append-only/)
      await expect(app.db.query(`delete from access_records where chain = $1`, [user.user.id])).rejects.toThrow(/append-only/)
      await expect(app.db.query('truncate access_records')).rejects.toThrow(/append-only/)
    })

    it('chains concurrent records of one user without a fork', async () => {
      const user = await registerUser(app)
      await Promise.all(Array.from({ length: 12 }, () => inject(user, 'GET', '/v1/me')))
      const rows = await trail(user.user.id)
      expect(rows.map((row) => Number(row.seq))).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1))
      expect((await verifyAccessChains(app.db.prisma)).problems).toEqual([])
    })

    it('audit verification catches an edited row and a deleted one', async () => {
      const user = await registerUser(app)
      for (let i = 0; i < 3; i++) await inject(user, 'GET', '/v1/me')
      const rows = await app.db.query<{ id: string; seq: string; action: string }>(`select id, seq::text, action from access_records where chain = $1 order by seq`, [user.user.id])
      expect(rows).toHaveLength(4)
      const mine = <P extends { chain: string }>(problems: P[]) => problems.filter((problem) => problem.chain === user.user.id)
      const withTriggers = async (off: string[], work: () => Promise<unknown>) => {
        for (const name of off) await app.db.query(`alter table access_records disable trigger ${name}`)
        try {
          await work()
        } finally {
          for (const name of off) await app.db.query(`alter table access_records enable trigger ${name}`)
        }
      }

      // Edited: "read" becomes "export".
      await withTriggers(['access_records_no_update'], () => app.db.query(`update access_records set action = 'export' where id = $1::uuid`, [rows[1]!.id]))
      expect(mine((await verifyAccessChains(app.db.prisma)).problems)).toEqual([{ chain: user.user.id, seq: '2', problem: 'hash_mismatch' }])
      await withTriggers(['access_records_no_update'], () => app.db.query(`update access_records set action = 'read' where id = $1::uuid`, [rows[1]!.id]))
      expect(mine((await verifyAccessChains(app.db.prisma)).problems)).toEqual([])

      // Deleted: a middle row, then the last one.
      const saved = await app.db.query<{ j: string }>(`select row_to_json(r)::text as j from access_records r where chain = $1 order by seq`, [user.user.id])
      await withTriggers(['access_records_no_delete'], () => app.db.query(`delete from access_records where id = $1::uuid`, [rows[2]!.id]))
      expect(mine((await verifyAccessChains(app.db.prisma)).problems).map((problem) => problem.problem)).toEqual(['gap', 'broken_link'])
      await withTriggers(['access_records_no_delete'], () => app.db.query(`delete from access_records where id = $1::uuid`, [rows[3]!.id]))
      expect(mine((await verifyAccessChains(app.db.prisma)).problems).map((problem) => problem.problem)).toEqual(['head_mismatch'])

      // Restore both rows as they were, so the run's trail verifies again.
      await withTriggers(['access_records_chain'], async () => {
        for (const { j } of saved.slice(2)) {
          await app.db.query(`insert into access_records select * from json_populate_record(null::access_records, $1::json)`, [j])
        }
      })
      expect(mine((await verifyAccessChains(app.db.prisma)).problems)).toEqual([])
    })
  })

  describe('GET /v1/me/access-log', () => {
    it('pages newest first, filters by action and principal, and describes each record in plain words', async () => {
      const user = await registerUser(app)
      const entry = await writeEntry(app, user, { occurredAt: '2026-11-03T10:00:00Z' })
      await inject(user, 'GET', `/v1/journal/entries/${entry.id}`)
      await inject(user, 'PATCH', `/v1/journal/entries/${entry.id}`, { mood: 3 })
      await inject(user, 'GET', '/v1/journal/entries')
      const first = await inject(user, 'GET', '/v1/me/access-log?limit=2')
      expect(first.statusCode, first.body).toBe(200)
      const page1 = first.json<{ data: { action: string; description: string; principal: { kind: string; name: string } }[]; page: { nextCursor: string | null } }>()
      expect(page1.data.map((record) => record.description)).toEqual(['You listed your journal entries (1)', 'You changed your journal entry of 3 Nov'])
      const second = await inject(user, 'GET', `/v1/me/access-log?limit=2&cursor=${encodeURIComponent(page1.page.nextCursor ?? '')}`)
      expect(second.json<{ data: { description: string }[] }>().data.map((record) => record.description)).toEqual([
        'You read your journal entry of 3 Nov',
        'You wrote your journal entry of 3 Nov',
      ])
      const reads = await inject(user, 'GET', '/v1/me/access-log?action=read&limit=100')
      expect(reads.json<{ data: { action: string }[] }>().data.every((record) => record.action === 'read')).toBe(true)
      // The first page's own read is on the log now, after it was read.
      expect(reads.json<{ data: { description: string }[] }>().data.map((record) => record.description)).toContain('You viewed this access log')
      const byApps = await inject(user, 'GET', '/v1/me/access-log?principal=client,issuer')
      expect(byApps.json<{ data: unknown[] }>().data).toEqual([])
      expect((await inject(user, 'GET', '/v1/me/access-log?action=peek')).statusCode).toBe(400)
      expect((await inject(user, 'GET', '/v1/me/access-log?cursor=bm90LWEtY3Vyc29y')).statusCode).toBe(400)
    })

    it('shows each user only their own records, and the export carries them', async () => {
      const [alice, bob] = await Promise.all([registerUser(app), registerUser(app)])
      const entry = await writeEntry(app, alice)
      await inject(alice, 'GET', `/v1/journal/entries/${entry.id}`)
      const bobsLog = (await inject(bob, 'GET', '/v1/me/access-log?limit=100')).json<{ data: { resource: { id: string | null } }[] }>().data
      expect(bobsLog.some((record) => record.resource.id === entry.id)).toBe(false)
      expect(bobsLog.every((record) => ['account', 'access_log'].includes((record as unknown as { resource: { type: string } }).resource.type))).toBe(true)
      const exported = (await inject(alice, 'GET', '/v1/me/export')).json<{ accessLog: { description: string; resource: { id: string | null } }[] }>()
      expect(exported.accessLog.some((record) => record.resource.id === entry.id)).toBe(true)
      expect(exported.accessLog[0]?.description).toBe('You exported all your data')
    })
  })

  describe('crisis language in the journal', () => {
    it('answers a write with the safety block, stores only a flag, and counts flagged entries in insights', async () => {
      const user = await registerUser(app)
      const key = randomUUID()
      const res = await inject(user, 'POST', '/v1/journal/entries', { body: "After the fight I'm not going to hurt myself, but I thought about it.", mood: 2, occurredAt: '2026-10-06T12:00:00Z' }, { 'idempotency-key': key })
      expect(res.statusCode, res.body).toBe(201)
      const written = res.json<{ id: string; safety: { alert: boolean; resources: { name: string }[]; reasons: { kind: string; itemId: string }[]; message: string } }>()
      expect(written.safety.alert).toBe(true)
      expect(written.safety.reasons).toEqual([expect.objectContaining({ kind: 'self-harm', itemId: 'entry' })])
      expect(written.safety.resources.map((resource) => resource.name)).toContain('988 Suicide & Crisis Lifeline')
      expect(JSON.stringify(written.safety)).not.toContain('hurt myself')
      const row = await app.db.prisma.journalEntry.findUniqueOrThrow({ where: { id: written.id } })
      expect(row.crisisFlag).toBe(true)
      // A retry gets the same block back.
      const replay = await inject(user, 'POST', '/v1/journal/entries', { body: "After the fight I'm not going to hurt myself, but I thought about it.", mood: 2, occurredAt: '2026-10-06T12:00:00Z' }, { 'idempotency-key': key })
      expect(replay.json<{ safety: unknown }>().safety).toEqual(written.safety)
      // Hurt feelings are not crisis language; the edit clears the flag.
      const edited = await inject(user, 'PATCH', `/v1/journal/entries/${written.id}`, { body: 'He hurt my feelings and I went quiet.' })
      expect(edited.json<{ safety: { alert: boolean } }>().safety.alert).toBe(false)
      expect((await app.db.prisma.journalEntry.findUniqueOrThrow({ where: { id: written.id } })).crisisFlag).toBe(false)
      // Crisis language in a conflict field counts too.
      const inConflict = await inject(user, 'POST', '/v1/journal/entries', { body: 'Long day.', mood: 3, occurredAt: '2026-10-07T12:00:00Z', conflict: { outcome: 'I wanted to die.' } })
      expect(inConflict.json<{ safety: { alert: boolean } }>().safety.alert).toBe(true)
      const insights = await inject(user, 'GET', '/v1/journal/insights?from=2026-10-05&to=2026-10-18&bucket=week')
      const body = insights.json<{ totals: { flaggedEntries: number }; buckets: { start: string; flaggedEntries: number }[] }>()
      expect(body.totals.flaggedEntries).toBe(1)
      expect(body.buckets.map((bucket) => [bucket.start, bucket.flaggedEntries])).toEqual([
        ['2026-10-05', 1],
        ['2026-10-12', 0],
      ])
    })
  })

  describe('settings and retention', () => {
    it('reads and changes settings, refusing a retention above the operator’s maximum', async () => {
      const user = await registerUser(app)
      expect((await inject(user, 'GET', '/v1/me/settings')).json()).toEqual({
        journalRetentionDays: null,
        timeZone: 'UTC',
        maxJournalRetentionDays: 3650,
        effectiveJournalRetentionDays: 3650,
      })
      const changed = await inject(user, 'PATCH', '/v1/me/settings', { journalRetentionDays: 30, timeZone: 'europe/berlin' })
      expect(changed.json()).toEqual({ journalRetentionDays: 30, timeZone: 'Europe/Berlin', maxJournalRetentionDays: 3650, effectiveJournalRetentionDays: 30 })
      const tooLong = await inject(user, 'PATCH', '/v1/me/settings', { journalRetentionDays: 4000 })
      expect(tooLong.statusCode).toBe(400)
      expect(tooLong.json().errors[0]).toMatchObject({ field: 'journalRetentionDays' })
      expect((await inject(user, 'PATCH', '/v1/me/settings', {})).statusCode).toBe(400)
      expect((await inject(user, 'PATCH', '/v1/me/settings', { timeZone: 'Mars/Olympus' })).statusCode).toBe(400)
    })

    it('sweeps each user’s old entries by the calendar of their own time zone, records it, and leaves others alone', async () => {
      // 2026-03-08 09:30 UTC: Sunday 22:30 in Auckland (UTC+13), Sunday 01:30 in Los Angeles (UTC-8, before its DST change).
      const now = new Date('2026-03-08T09:30:00Z')
      const swept = await buildApp(testConfig({ RETENTION_SWEEP_INTERVAL_MINUTES: '0' }), { db: await sharedDatabase(), clock: { now: () => now } })
      try {
        const [auckland, losAngeles, keeper] = await Promise.all([registerUser(swept), registerUser(swept), registerUser(swept)])
        for (const [user, tz] of [
          [auckland, 'Pacific/Auckland'],
          [losAngeles, 'America/Los_Angeles'],
        ] as const) {
          expect((await swept.inject({ method: 'PATCH', url: '/v1/me/settings', headers: user.headers, payload: { journalRetentionDays: 1, timeZone: tz } })).statusCode).toBe(200)
        }
        // The same instants for each: 05:00 UTC on 7 March is the 7th in Auckland (kept: yesterday) but the 6th in Los Angeles (gone).
        const instants = ['2026-03-06T09:00:00Z', '2026-03-07T05:00:00Z', '2026-03-07T20:00:00Z']
        const ids = new Map<string, string[]>()
        for (const user of [auckland, losAngeles, keeper]) {
          const mine: string[] = []
          for (const at of instants) mine.push((await writeEntry(swept, user, { occurredAt: at })).id)
          ids.set(user.user.id, mine)
          // Written then too (a test may not wait days): created_at is when the entry was written.
          await swept.db.query(`update journal_entries set created_at = occurred_at where user_id = $1::uuid`, [user.user.id])
        }
        const report = await swept.retention.sweep()
        expect(report).toMatchObject({ ran: true })
        const left = async (user: TestUser) =>
          (await swept.db.prisma.journalEntry.findMany({ where: { userId: user.user.id }, orderBy: { occurredAt: 'asc' }, select: { id: true } })).map((row) => row.id)
        const [a0, a1, a2] = ids.get(auckland.user.id)!
        const [, l1, l2] = ids.get(losAngeles.user.id)!
        // Auckland: cutoff 7 March 00:00 NZDT = 6 March 11:00 UTC. Los Angeles: cutoff 7 March 00:00 PST = 7 March 08:00 UTC.
        expect(await left(auckland)).toEqual([a1, a2])
        expect(a0).toBeDefined()
        expect(await left(losAngeles)).toEqual([l2])
        expect(l1).toBeDefined()
        expect(await left(keeper)).toEqual(ids.get(keeper.user.id))
        const records = (await trail(losAngeles.user.id)).filter((row) => row.principalKind === 'system')
        expect(records).toEqual([expect.objectContaining({ principalId: 'retention', action: 'delete', resourceType: 'journal_entries', itemCount: 2, requestId: null })])
        const log = (await swept.inject({ method: 'GET', url: '/v1/me/access-log?principal=system', headers: losAngeles.headers })).json<{ data: { description: string }[] }>()
        expect(log.data.map((record) => record.description)).toEqual(['Automatic deletion deleted 2 journal entries older than your retention setting'])
        // A second sweep at the same instant finds nothing more.
        expect(await swept.retention.sweep()).toMatchObject({ ran: true, journalEntries: 0 })
        expect((await verifyAccessChains(swept.db.prisma)).problems).toEqual([])
      } finally {
        await swept.close()
      }
    })

    it('sweeps expired idempotency keys, refresh tokens and ended sessions', async () => {
      const user = await registerUser(app)
      const session = await app.db.prisma.authSession.findFirstOrThrow({ where: { userId: user.user.id } })
      await app.db.prisma.authSession.update({ where: { id: session.id }, data: { revokedAt: new Date(Date.now() - 2 * 3600_000), revokedReason: 'logout' } })
      await app.db.prisma.refreshToken.updateMany({ where: { sessionId: session.id }, data: { expiresAt: new Date(Date.now() - 1000) } })
      const stale = await app.db.prisma.idempotencyKey.create({
        data: { userId: user.user.id, key: `stale-${randomUUID()}`, requestHash: 'x', expiresAt: new Date(Date.now() - 1000) },
      })
      const report = await app.retention.sweep()
      expect(report.ran).toBe(true)
      expect(await app.db.prisma.idempotencyKey.findUnique({ where: { id: stale.id } })).toBeNull()
      expect(await app.db.prisma.refreshToken.count({ where: { sessionId: session.id } })).toBe(0)
      expect(await app.db.prisma.authSession.findUnique({ where: { id: session.id } })).toBeNull()
    })

    it('lets only one instance sweep at a time', async () => {
      if (app.db.kind !== 'postgres') return // the embedded database is one process with one connection: there is no second instance
      // Another instance holds the sweep's advisory lock: this one skips the round.
      await app.db.withSession(async (other) => {
        await other.query('select pg_advisory_lock(7465746582991203)')
        try {
          expect(await app.retention.sweep()).toMatchObject({ ran: false, journalEntries: 0 })
        } finally {
          await other.query('select pg_advisory_unlock(7465746582991203)')
        }
      })
      expect((await app.retention.sweep()).ran).toBe(true)
    })
  })
})
