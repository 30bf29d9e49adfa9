import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, buildApp } from '../../src/app.js'
import { CLOCK_SKEW_MS } from '../../src/lib/date-range.js'
import { loadJournalKeys } from '../../src/modules/journal/journal-keys.js'
import { type JournalEntry, UpdateJournalEntrySchema } from '../../src/modules/journal/journal-schemas.js'
import { createJournalService } from '../../src/modules/journal/journal-service.js'
import { CONFLICT_RESPONSE_VALUES, EMOTIONS } from '../../src/modules/journal/journal-vocabulary.js'
import { ownedRowCount } from '../helpers/account.js'
import { capturingLogger } from '../helpers/app.js'
import { bearer, clientToken, registerUser, type TestUser } from '../helpers/auth.js'
import { sharedDatabase, testConfig } from '../helpers/database.js'
import { allPages, withoutSafety, writeEntry } from '../helpers/journal.js'

const CONFLICT = {
  trigger: 'He booked the whole weekend without asking.',
  response: 'named-my-need',
  responseNote: 'Paused first, then asked for one day for us.',
  outcome: 'He agreed to keep Sunday free.',
  intensity: 6,
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString()

describe('journal entries', () => {
  let app: App
  let alice: TestUser
  beforeAll(async () => {
    app = await buildApp(testConfig(), { db: await sharedDatabase() })
    alice = await registerUser(app)
  })
  afterAll(async () => {
    await app.close()
  })

  const post = (user: TestUser, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/v1/journal/entries', headers: { ...user.headers, ...headers }, payload: payload as Record<string, unknown> })
  const patch = (user: TestUser, id: string, payload: unknown) =>
    app.inject({ method: 'PATCH', url: `/v1/journal/entries/${id}`, headers: user.headers, payload: payload as Record<string, unknown> })
  const get = (user: TestUser, id: string) => app.inject({ method: 'GET', url: `/v1/journal/entries/${id}`, headers: user.headers })
  const fieldsOf = (res: { json: () => { errors?: { field: string }[] } }) => (res.json().errors ?? []).map((error) => error.field).sort()

  describe('create and read', () => {
    it('creates an entry with a conflict part, answers 201 with its location, and reads it back', async () => {
      const res = await post(alice, {
        body: 'We argued about the weekend again.',
        title: '  Saturday plans ',
        mood: 6,
        emotions: ['hurt', 'calm', 'hurt'],
        tags: ['Weekend', ' weekend ', 'Work Stress', 'ÜBER'],
        occurredAt: '2026-01-10T19:30:00+01:00',
        conflict: CONFLICT,
      })
      expect(res.statusCode, res.body).toBe(201)
      const entry = withoutSafety(res.json<JournalEntry & { safety: unknown }>())
      expect(res.json().safety).toMatchObject({ alert: false, resources: [] })
      expect(res.headers.location).toBe(`/v1/journal/entries/${entry.id}`)
      expect(entry).toEqual({
        id: expect.any(String),
        occurredAt: '2026-01-10T18:30:00.000Z',
        title: 'Saturday plans',
        body: 'We argued about the weekend again.',
        mood: 6,
        emotions: ['hurt', 'calm'],
        tags: ['weekend', 'work-stress', 'über'],
        conflict: { ...CONFLICT, responseGroup: 'regulated' },
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      })
      const read = await get(alice, entry.id)
      expect(read.statusCode).toBe(200)
      expect(read.json()).toEqual(entry)
      expect(read.headers['cache-control']).toBe('no-store')
    })

    it('defaults occurredAt to now, emotions and tags to none, and a blank title or an empty conflict to null', async () => {
      const before = Date.now()
      const entry = await writeEntry(app, alice, { title: '   ', conflict: {} })
      expect(Date.parse(entry.occurredAt)).toBeGreaterThanOrEqual(before - 5)
      expect(Date.parse(entry.occurredAt)).toBeLessThanOrEqual(Date.now())
      expect(entry).toMatchObject({ title: null, emotions: [], tags: [], conflict: null })
      const partial = await writeEntry(app, alice, { conflict: { response: 'withdrew' } })
      expect(partial.conflict).toEqual({ trigger: null, response: 'withdrew', responseGroup: 'reactive', responseNote: null, outcome: null, intensity: null })
    })
  })

  describe('validation', () => {
    it('accepts the edges: a 1- and a 20,000-character body (emoji count once), mood 1 and 10, 20 tags, occurredAt a minute ahead', async () => {
      await writeEntry(app, alice, { body: 'x', mood: 1 })
      await writeEntry(app, alice, { body: 'x'.repeat(20_000), mood: 10 })
      const emoji = await writeEntry(app, alice, { body: '🙂'.repeat(20_000) })
      expect([...emoji.body].length).toBe(20_000)
      const tags = Array.from({ length: 20 }, (_, i) => `tag-${i}`)
      expect((await writeEntry(app, alice, { tags })).tags).toEqual(tags)
      await writeEntry(app, alice, { occurredAt: new Date(Date.now() + 60_000).toISOString() })
      expect((await writeEntry(app, alice, { title: ` ${'t'.repeat(200)}   ` })).title).toBe('t'.repeat(200))
    })

    it('allows the clock skew assessments allow on occurredAt, and no more', async () => {
      await writeEntry(app, alice, { occurredAt: new Date(Date.now() + CLOCK_SKEW_MS - 30_000).toISOString() })
      const ahead = await post(alice, { body: 'text', mood: 5, occurredAt: new Date(Date.now() + CLOCK_SKEW_MS + 30_000).toISOString() })
      expect(ahead.statusCode).toBe(400)
      expect(fieldsOf(ahead)).toEqual(['occurredAt'])
    })

    it.each([
      ['an empty body', { body: '' }, ['body']],
      ['a blank body', { body: ' \n\t ' }, ['body']],
      ['a 20,001-character body', { body: 'x'.repeat(20_001) }, ['body']],
      ['no body', { body: undefined }, ['body']],
      ['mood 0', { mood: 0 }, ['mood']],
      ['mood 11', { mood: 11 }, ['mood']],
      ['mood 5.5', { mood: 5.5 }, ['mood']],
      ['mood as a string', { mood: '5' }, ['mood']],
      ['no mood', { mood: undefined }, ['mood']],
      ['21 tags', { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, ['tags']],
      ['a tag with punctuation', { tags: ['ok', '#nope'] }, ['tags.1']],
      ['a 41-character tag', { tags: ['x'.repeat(41)] }, ['tags.0']],
      ['an empty tag', { tags: ['  '] }, ['tags.0']],
      ['occurredAt an hour ahead', { occurredAt: new Date(Date.now() + 3_600_000).toISOString() }, ['occurredAt']],
      ['occurredAt before 1900', { occurredAt: '1899-12-31T00:00:00Z' }, ['occurredAt']],
      ['occurredAt without an offset', { occurredAt: '2026-01-10T19:30:00' }, ['occurredAt']],
      ['a 201-character title', { title: 'x'.repeat(201) }, ['title']],
      ['conflict intensity 11', { conflict: { intensity: 11 } }, ['conflict.intensity']],
      ['a 4,001-character trigger', { conflict: { trigger: 'x'.repeat(4001) } }, ['conflict.trigger']],
      ['an unknown conflict field', { conflict: { feeling: 'bad' } }, ['conflict.feeling']],
      ['an unknown field', { conflictResponse: 'withdrew' }, ['conflictResponse']],
    ])('refuses %s', async (_label, fields, expected) => {
      const res = await post(alice, { body: 'text', mood: 5, ...fields })
      expect(res.statusCode, res.body).toBe(400)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(res.json()).toMatchObject({ code: 'validation_failed' })
      expect(fieldsOf(res)).toEqual(expected)
    })

    it('refuses unknown emotions and conflict responses, listing the valid values', async () => {
      const res = await post(alice, { body: 'text', mood: 5, emotions: ['calm', 'sadd'], conflict: { response: 'ran-away' } })
      expect(res.statusCode).toBe(400)
      const errors = res.json().errors as { field: string; message: string; code: string }[]
      expect(errors.map((e) => e.field).sort()).toEqual(['conflict.response', 'emotions.1'])
      const emotion = errors.find((e) => e.field === 'emotions.1')
      const response = errors.find((e) => e.field === 'conflict.response')
      expect(emotion?.code).toBe('invalid_value')
      for (const word of EMOTIONS) expect(emotion?.message).toContain(word)
      for (const word of CONFLICT_RESPONSE_VALUES) expect(response?.message).toContain(word)
    })

    it('lists every invalid field at once', async () => {
      const res = await post(alice, { body: '', mood: 11, emotions: ['nope'], tags: ['#'], occurredAt: 'yesterday', conflict: { intensity: 0 } })
      expect(res.statusCode).toBe(400)
      expect(fieldsOf(res)).toEqual(['body', 'conflict.intensity', 'emotions.0', 'mood', 'occurredAt', 'tags.0'])
    })

    it('validates PATCH like POST, and refuses an empty one', async () => {
      const entry = await writeEntry(app, alice)
      for (const [fields, field] of [
        [{ body: '' }, 'body'],
        [{ body: 'x'.repeat(20_001) }, 'body'],
        [{ mood: 0 }, 'mood'],
        [{ emotions: ['sadd'] }, 'emotions.0'],
        [{ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'tags'],
        [{ occurredAt: new Date(Date.now() + 3_600_000).toISOString() }, 'occurredAt'],
        [{ conflict: { response: 'ran-away' } }, 'conflict.response'],
        [{ body: null }, 'body'],
        [{ mood: null }, 'mood'],
        [{}, ''],
      ] as const) {
        const res = await patch(alice, entry.id, fields)
        expect(res.statusCode, JSON.stringify(fields)).toBe(400)
        expect(fieldsOf(res), JSON.stringify(fields)).toEqual([field])
      }
      expect((await get(alice, entry.id)).json()).toEqual(entry)
    })
  })

  describe('update and delete', () => {
    it('changes only the given fields, merges the conflict part, and clears with null', async () => {
      const entry = await writeEntry(app, alice, { title: 'Before', emotions: ['anxious'], tags: ['a'], conflict: CONFLICT })
      await new Promise((resolve) => setTimeout(resolve, 5))
      const res = await patch(alice, entry.id, { mood: 8, conflict: { outcome: 'We planned Sunday.', responseNote: null, response: 'paused' } })
      expect(res.statusCode, res.body).toBe(200)
      const updated = withoutSafety(res.json<JournalEntry & { safety: unknown }>())
      expect(updated).toEqual({
        ...entry,
        mood: 8,
        conflict: { ...CONFLICT, outcome: 'We planned Sunday.', responseNote: null, response: 'paused', responseGroup: 'regulated' },
        updatedAt: expect.any(String),
      })
      expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(entry.updatedAt))
      expect((await get(alice, entry.id)).json()).toEqual(updated)

      const cleared = withoutSafety((await patch(alice, entry.id, { title: null, conflict: null, tags: [], body: 'Rewritten.' })).json<JournalEntry & { safety: unknown }>())
      expect(cleared).toMatchObject({ title: null, conflict: null, tags: [], body: 'Rewritten.', emotions: ['anxious'], mood: 8 })
      // Clearing every part of a conflict one by one leaves no conflict.
      const again = (await patch(alice, entry.id, { conflict: { intensity: 3 } })).json<JournalEntry>()
      expect(again.conflict).toMatchObject({ intensity: 3, trigger: null })
      expect((await patch(alice, entry.id, { conflict: { intensity: null } })).json().conflict).toBeNull()
    })

    it('loses no edit when another lands between its read and its write', async () => {
      const entry = await writeEntry(app, alice, { mood: 5, tags: ['before'] })
      // The service under test, on the real database, with another PATCH landing between its first read and its write.
      let interfered = false
      const entries = new Proxy(app.db.prisma.journalEntry, {
        get(target, property, receiver) {
          if (property !== 'findFirst') return Reflect.get(target, property, receiver) as unknown
          return async (...args: unknown[]) => {
            const row: unknown = await Reflect.apply(Reflect.get(target, property) as (...a: unknown[]) => unknown, target, args)
            if (!interfered) {
              interfered = true
              expect((await patch(alice, entry.id, { tags: ['after'] })).statusCode).toBe(200)
            }
            return row
          }
        },
      })
      const prisma = { journalEntry: entries, $transaction: app.db.prisma.$transaction.bind(app.db.prisma) } as Parameters<typeof createJournalService>[0]['prisma']
      const service = createJournalService({ prisma, keyring: loadJournalKeys(testConfig()), resources: testConfig().CRISIS_RESOURCES })
      const updated = await service.update(alice.user.id, entry.id, UpdateJournalEntrySchema.parse({ mood: 2 }), { principal: { kind: 'user' }, requestId: null })
      expect(interfered).toBe(true)
      expect(updated).toMatchObject({ mood: 2, tags: ['after'] })
      expect((await get(alice, entry.id)).json()).toMatchObject({ mood: 2, tags: ['after'] })
    })

    it('deletes an entry: 204, then 404 for every verb', async () => {
      const entry = await writeEntry(app, alice)
      expect((await app.inject({ method: 'DELETE', url: `/v1/journal/entries/${entry.id}`, headers: alice.headers })).statusCode).toBe(204)
      expect((await get(alice, entry.id)).statusCode).toBe(404)
      expect((await patch(alice, entry.id, { mood: 2 })).statusCode).toBe(404)
      expect((await app.inject({ method: 'DELETE', url: `/v1/journal/entries/${entry.id}`, headers: alice.headers })).statusCode).toBe(404)
    })

    it('answers 400 for an id that is not a UUID', async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/journal/entries/not-a-uuid', headers: alice.headers })
      expect(res.statusCode).toBe(400)
      expect(res.json().errors[0]).toMatchObject({ in: 'path', field: 'id' })
    })
  })

  describe('owner isolation', () => {
    it("answers 404 for another user's entry on every verb, and changes nothing", async () => {
      const owner = await registerUser(app)
      const intruder = await registerUser(app)
      const entry = await writeEntry(app, owner, { body: 'Only mine.', tags: ['private-tag'], conflict: CONFLICT })
      const url = `/v1/journal/entries/${entry.id}`
      for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
        const res = await app.inject({ method, url, headers: intruder.headers, ...(method === 'PATCH' ? { payload: { body: 'hijacked' } } : {}) })
        expect(res.statusCode, method).toBe(404)
        expect(res.json()).toMatchObject({ code: 'not_found' })
        expect(res.body).not.toContain('Only mine')
      }
      // A random id answers exactly the same, so ids cannot be probed.
      const unknown = await app.inject({ method: 'GET', url: `/v1/journal/entries/${randomUUID()}`, headers: intruder.headers })
      expect(unknown.statusCode).toBe(404)
      expect(Object.keys(unknown.json()).sort()).toEqual(Object.keys((await get(intruder, entry.id)).json()).sort())

      const list = await app.inject({ method: 'GET', url: '/v1/journal/entries?tag=private-tag', headers: intruder.headers })
      expect(list.json().data).toEqual([])
      const insights = await app.inject({ method: 'GET', url: '/v1/journal/insights', headers: intruder.headers })
      expect(insights.json().totals.entries).toBe(0)
      expect((await get(owner, entry.id)).json()).toEqual(entry)
    })

    it('keeps app tokens and anonymous callers out of every route', async () => {
      const entry = await writeEntry(app, alice)
      const appToken = await clientToken(app, ['directory:read'])
      const routes = [
        { method: 'POST' as const, url: '/v1/journal/entries', payload: { body: 'x', mood: 5 } },
        { method: 'GET' as const, url: '/v1/journal/entries' },
        { method: 'GET' as const, url: `/v1/journal/entries/${entry.id}` },
        { method: 'PATCH' as const, url: `/v1/journal/entries/${entry.id}`, payload: { mood: 1 } },
        { method: 'DELETE' as const, url: `/v1/journal/entries/${entry.id}` },
        { method: 'GET' as const, url: '/v1/journal/insights' },
      ]
      for (const route of routes) {
        expect((await app.inject({ ...route, headers: bearer(appToken) })).statusCode, `${route.method} ${route.url}`).toBe(403)
        expect((await app.inject(route)).statusCode, `${route.method} ${route.url}`).toBe(401)
      }
      expect((await get(alice, entry.id)).json()).toEqual(entry)
    })
  })

  describe('filters and pagination', () => {
    let user: TestUser
    const ids: Record<string, string> = {}
    beforeAll(async () => {
      user = await registerUser(app)
      const fixture: Array<[string, Record<string, unknown>]> = [
        ['jan-low', { occurredAt: '2026-01-05T10:00:00Z', mood: 2, emotions: ['anxious', 'lonely'], tags: ['work'], conflict: { response: 'withdrew', intensity: 8 } }],
        ['jan-mid', { occurredAt: '2026-01-20T10:00:00Z', mood: 5, emotions: ['anxious'], tags: ['work', 'family'], conflict: { response: 'escalated' } }],
        ['feb-high', { occurredAt: '2026-02-10T10:00:00Z', mood: 8, emotions: ['hopeful', 'calm'], tags: ['family'], conflict: { response: 'named-my-need' } }],
        ['feb-late', { occurredAt: '2026-02-28T23:30:00Z', mood: 7, emotions: ['calm'], tags: [] }],
        ['mar', { occurredAt: '2026-03-15T10:00:00Z', mood: 9, emotions: ['hopeful'], tags: ['work'], conflict: { response: 'paused', intensity: 3 } }],
      ]
      for (const [name, fields] of fixture) ids[name] = (await writeEntry(app, user, fields)).id
    })
    const list = async (query: string) => {
      const res = await app.inject({ method: 'GET', url: `/v1/journal/entries?${query}`, headers: user.headers })
      expect(res.statusCode, res.body).toBe(200)
      return (res.json().data as JournalEntry[]).map((entry) => Object.keys(ids).find((name) => ids[name] === entry.id))
    }

    it('lists newest first and filters by period, tags (all), emotions (all), mood range and conflict responses (any)', async () => {
      expect(await list('')).toEqual(['mar', 'feb-late', 'feb-high', 'jan-mid', 'jan-low'])
      expect(await list('from=2026-01-20T10:00:00Z&to=2026-02-10T10:00:00Z')).toEqual(['feb-high', 'jan-mid'])
      expect(await list('from=2026-02-01&to=2026-02-28')).toEqual(['feb-late', 'feb-high'])
      // The same dates in Berlin: 23:30Z on 28 February is 1 March there.
      expect(await list('from=2026-02-01&to=2026-02-28&tz=Europe/Berlin')).toEqual(['feb-high'])
      expect(await list('tag=work')).toEqual(['mar', 'jan-mid', 'jan-low'])
      expect(await list('tag=work&tag=family')).toEqual(['jan-mid'])
      expect(await list('tag=WORK,Family')).toEqual(['jan-mid'])
      expect(await list('emotion=anxious')).toEqual(['jan-mid', 'jan-low'])
      expect(await list('emotion=anxious&emotion=lonely')).toEqual(['jan-low'])
      expect(await list('moodMin=5&moodMax=8')).toEqual(['feb-late', 'feb-high', 'jan-mid'])
      expect(await list('conflictResponse=withdrew,paused')).toEqual(['mar', 'jan-low'])
      expect(await list('conflictResponse=named-my-need&tag=family&moodMin=6')).toEqual(['feb-high'])
      expect(await list('tag=nothing-like-this')).toEqual([])
    })

    it.each([
      ['moodMin above moodMax', 'moodMin=8&moodMax=3', 'moodMin'],
      ['from after to', 'from=2026-03-01&to=2026-02-01', 'from'],
      ['an unknown emotion', 'emotion=sadd', 'emotion.0'],
      ['an unknown conflict response', 'conflictResponse=ran', 'conflictResponse.0'],
      ['an unknown time zone', 'tz=Mars/Olympus', 'tz'],
      ['an offset as a time zone', 'tz=%2B02:00', 'tz'],
      ['a date that does not exist', 'from=2026-02-30', 'from'],
      ['limit 0', 'limit=0', 'limit'],
      ['limit 101', 'limit=101', 'limit'],
      ['a forged cursor', `cursor=${Buffer.from('{"o":"x"}').toString('base64url')}`, 'cursor'],
    ])('refuses %s', async (_label, query, field) => {
      const res = await app.inject({ method: 'GET', url: `/v1/journal/entries?${query}`, headers: user.headers })
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().errors.map((e: { field: string }) => e.field)).toEqual([field])
    })

    it('pages without duplicates or gaps while entries are written between pages, equal times included', async () => {
      const pager = await registerUser(app)
      const base = Date.parse('2025-06-01T12:00:00Z')
      const original: string[] = []
      // 23 entries, three of them sharing one instant: the id breaks the tie.
      for (let i = 0; i < 23; i++) {
        const occurredAt = new Date(base - Math.min(i, 20) * 3_600_000).toISOString()
        original.push((await writeEntry(app, pager, { occurredAt, body: `entry ${i}` })).id)
      }
      const addedOlder: string[] = []
      const seen = await allPages(app, pager, 'limit=5', async (page) => {
        // Newer than anything listed: must not show up later. Older than everything: must show up at the end.
        await writeEntry(app, pager, { occurredAt: new Date(base + 3_600_000).toISOString(), body: 'newer' })
        addedOlder.push((await writeEntry(app, pager, { occurredAt: new Date(base - (30 + page) * 3_600_000).toISOString(), body: 'older' })).id)
      })
      const ids = seen.map((entry) => entry.id)
      expect(new Set(ids).size).toBe(ids.length)
      for (const id of [...original, ...addedOlder]) expect(ids).toContain(id)
      expect(seen.some((entry) => entry.body === 'newer')).toBe(false)
      // Strictly newest first by (occurredAt, id).
      for (let i = 1; i < seen.length; i++) {
        const [prev, next] = [seen[i - 1]!, seen[i]!]
        expect(prev.occurredAt > next.occurredAt || (prev.occurredAt === next.occurredAt && prev.id > next.id), `${i}`).toBe(true)
      }
    })
  })

  describe('Idempotency-Key on create', () => {
    it('creates once: a retry with the key gets the same entry, marked replayed, and the key table holds no text', async () => {
      const user = await registerUser(app)
      const key = randomUUID()
      const marker = `idempotent-${randomUUID()}`
      const payload = { body: `Retry me ${marker}`, mood: 4, conflict: { trigger: marker } }
      const first = await post(user, payload, { 'idempotency-key': key })
      const retry = await post(user, payload, { 'idempotency-key': key })
      expect(first.statusCode).toBe(201)
      expect(retry.statusCode).toBe(201)
      expect(retry.headers['idempotent-replayed']).toBe('true')
      expect(retry.headers.location).toBe(first.headers.location)
      expect(retry.json()).toEqual(first.json())
      expect(await app.db.prisma.journalEntry.count({ where: { userId: user.user.id } })).toBe(1)

      const stored = await app.db.query<{ row: string }>(`select k::text as row from idempotency_keys k where user_id = $1`, [user.user.id])
      expect(stored).toHaveLength(1)
      expect(stored[0]?.row).not.toContain(marker)
      expect(stored[0]?.row).not.toContain('Retry me')

      const other = await post(user, { ...payload, mood: 5 }, { 'idempotency-key': key })
      expect(other.statusCode).toBe(422)
      expect(await app.db.prisma.journalEntry.count({ where: { userId: user.user.id } })).toBe(1)
    })

    it('replays the entry as it is now, and answers 404 once it was deleted, never creating it again', async () => {
      const user = await registerUser(app)
      const key = randomUUID()
      const payload = { body: 'First version', mood: 4 }
      const first = (await post(user, payload, { 'idempotency-key': key })).json<JournalEntry>()
      await patch(user, first.id, { body: 'Edited version' })
      const replay = await post(user, payload, { 'idempotency-key': key })
      expect(replay.statusCode).toBe(201)
      expect(replay.json()).toMatchObject({ id: first.id, body: 'Edited version' })

      await app.inject({ method: 'DELETE', url: `/v1/journal/entries/${first.id}`, headers: user.headers })
      const afterDelete = await post(user, payload, { 'idempotency-key': key })
      expect(afterDelete.statusCode).toBe(404)
      expect(await app.db.prisma.journalEntry.count({ where: { userId: user.user.id } })).toBe(0)
    })
  })

  describe('export and account deletion', () => {
    it('exports every entry decrypted, and DELETE /v1/me leaves no row behind', async () => {
      const user = await registerUser(app)
      const a = await writeEntry(app, user, { body: 'First, in the export.', conflict: CONFLICT, occurredAt: minutesAgo(10) })
      const b = await writeEntry(app, user, { body: 'Second, in the export.', title: 'Two' })
      const res = await app.inject({ method: 'GET', url: '/v1/me/export', headers: user.headers })
      expect(res.statusCode).toBe(200)
      expect(res.json().journalEntries).toEqual([b, a])
      expect(res.json().omittedSections).not.toContain('journalEntries')

      expect((await app.inject({ method: 'DELETE', url: '/v1/me', headers: user.headers })).statusCode).toBe(204)
      expect(await ownedRowCount(app, user.user.id)).toEqual({})
      const [left] = await app.db.query<{ n: number }>(`select count(*)::int as n from journal_entries where id = any($1::uuid[])`, [[a.id, b.id]])
      expect(left?.n).toBe(0)
    })
  })

  describe('logging', () => {
    it('never logs entry text, titles, conflict text or tags, on success or failure', async () => {
      const capture = capturingLogger('trace')
      const logged = await buildApp(testConfig({ LOG_LEVEL: 'trace' }), { db: await sharedDatabase(), logger: capture.logger })
      try {
        const user = await registerUser(logged)
        const marker = `zq${randomUUID().slice(0, 12)}`
        const payload = {
          body: `body ${marker}`,
          title: `title ${marker}`,
          mood: 3,
          tags: [`tag-${marker}`],
          conflict: { trigger: `trigger ${marker}`, responseNote: `note ${marker}`, outcome: `outcome ${marker}`, response: 'withdrew' },
        }
        const created = await logged.inject({ method: 'POST', url: '/v1/journal/entries', headers: { ...user.headers, 'idempotency-key': randomUUID() }, payload })
        expect(created.statusCode).toBe(201)
        const id = created.json<JournalEntry>().id
        await logged.inject({ method: 'GET', url: `/v1/journal/entries/${id}`, headers: user.headers })
        await logged.inject({ method: 'GET', url: `/v1/journal/entries?tag=tag-${marker}`, headers: user.headers })
        await logged.inject({ method: 'PATCH', url: `/v1/journal/entries/${id}`, headers: user.headers, payload: { body: `edited ${marker}` } })
        const refused = await logged.inject({ method: 'POST', url: '/v1/journal/entries', headers: user.headers, payload: { ...payload, mood: 99 } })
        expect(refused.statusCode).toBe(400)
        expect(capture.lines().length).toBeGreaterThan(4)
        expect(capture.text()).toContain('/v1/journal/entries')
        expect(capture.text()).not.toContain(marker)
      } finally {
        await logged.close()
      }
    })
  })
})
