import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, buildApp } from '../../src/app.js'
import { createJournalInsights, type ScoreSeriesProvider } from '../../src/modules/journal/journal-insights.js'
import { InsightsQuerySchema, type JournalInsights, JournalInsightsSchema } from '../../src/modules/journal/journal-schemas.js'
import { registerUser, type TestUser } from '../helpers/auth.js'
import { sharedDatabase, testConfig } from '../helpers/database.js'
import { writeEntry } from '../helpers/journal.js'

const DAY = 86_400_000
const HOUR = 3_600_000

/**
 * A hand-computed fixture in March 2025, around two boundaries: e3 and e4 are 1 hour apart across
 * Sunday/Monday midnight in Berlin (UTC+1), and e0 and e7 sit half an hour outside the period in
 * Berlin but inside or outside it in UTC.
 */
const FIXTURE = [
  { name: 'e0', occurredAt: '2025-03-02T23:30:00Z', mood: 2, emotions: ['sad'] },
  { name: 'e1', occurredAt: '2025-03-03T07:00:00Z', mood: 3, emotions: ['anxious', 'hurt'], conflict: { response: 'withdrew', intensity: 8 } },
  { name: 'e2', occurredAt: '2025-03-05T19:00:00Z', mood: 4, emotions: ['anxious'], conflict: { response: 'withdrew', intensity: 6 } },
  { name: 'e3', occurredAt: '2025-03-09T22:30:00Z', mood: 5, emotions: ['lonely'] },
  { name: 'e4', occurredAt: '2025-03-09T23:30:00Z', mood: 6, emotions: ['hopeful'], conflict: { response: 'paused', intensity: 5, trigger: 'Dinner plans.' } },
  { name: 'e5', occurredAt: '2025-03-18T12:00:00Z', mood: 7, emotions: ['hopeful', 'calm'], conflict: { response: 'named-my-need', intensity: 4 } },
  { name: 'e6', occurredAt: '2025-03-20T12:00:00Z', mood: 8, emotions: ['calm'], conflict: { trigger: 'Only words, no response chosen.' } },
  { name: 'e7', occurredAt: '2025-03-23T23:30:00Z', mood: 1, emotions: ['angry'], conflict: { response: 'escalated', intensity: 9 } },
]

const empty = (start: string, end: string) => ({
  start,
  end,
  mood: { count: 0, mean: null, min: null, max: null },
  conflict: { count: 0, meanIntensity: null, regulated: 0, reactive: 0, responses: [] },
  flaggedEntries: 0,
})

/** `YYYY-MM-DD` plus `days`. */
const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10)

const SELF = { principal: { kind: 'user' as const }, requestId: null }

describe('journal insights', () => {
  let app: App
  let user: TestUser
  beforeAll(async () => {
    app = await buildApp(testConfig(), { db: await sharedDatabase() })
    user = await registerUser(app)
    for (const { name: _name, ...fields } of FIXTURE) await writeEntry(app, user, { ...fields, body: `Entry text that insights never read.` })
  })
  afterAll(async () => {
    await app.close()
  })

  const insights = async (query: string, who: TestUser = user, target: App = app): Promise<JournalInsights> => {
    const res = await target.inject({ method: 'GET', url: `/v1/journal/insights?${query}`, headers: who.headers })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<JournalInsights>()
  }

  it('computes weekly mood, conflicts, responses and emotions in the user’s time zone (Berlin)', async () => {
    const result = await insights('from=2025-03-03&to=2025-03-23&bucket=week&tz=Europe/Berlin')
    expect(result).toMatchObject({ from: '2025-03-02T23:00:00.000Z', to: '2025-03-23T22:59:59.999Z', bucket: 'week', timeZone: 'Europe/Berlin' })
    expect(result.buckets).toEqual([
      {
        start: '2025-03-03',
        end: '2025-03-09',
        mood: { count: 4, mean: 3.5, min: 2, max: 5 },
        conflict: { count: 2, meanIntensity: 7, regulated: 0, reactive: 2, responses: [{ response: 'withdrew', group: 'reactive', count: 2 }] },
        flaggedEntries: 0,
      },
      {
        start: '2025-03-10',
        end: '2025-03-16',
        mood: { count: 1, mean: 6, min: 6, max: 6 },
        conflict: { count: 1, meanIntensity: 5, regulated: 1, reactive: 0, responses: [{ response: 'paused', group: 'regulated', count: 1 }] },
        flaggedEntries: 0,
      },
      {
        start: '2025-03-17',
        end: '2025-03-23',
        mood: { count: 2, mean: 7.5, min: 7, max: 8 },
        conflict: { count: 2, meanIntensity: 4, regulated: 1, reactive: 0, responses: [{ response: 'named-my-need', group: 'regulated', count: 1 }] },
        flaggedEntries: 0,
      },
    ])
    expect(result.totals).toEqual({ entries: 7, meanMood: 5, conflicts: 5, meanIntensity: 5.75, flaggedEntries: 0 })
    expect(result.emotions).toEqual([
      { emotion: 'anxious', count: 2, share: 0.29, meanMood: 3.5 },
      { emotion: 'calm', count: 2, share: 0.29, meanMood: 7.5 },
      { emotion: 'hopeful', count: 2, share: 0.29, meanMood: 6.5 },
      { emotion: 'hurt', count: 1, share: 0.14, meanMood: 3 },
      { emotion: 'lonely', count: 1, share: 0.14, meanMood: 5 },
      { emotion: 'sad', count: 1, share: 0.14, meanMood: 2 },
    ])
    expect(result.conflictResponses).toEqual([
      { response: 'withdrew', group: 'reactive', count: 2 },
      { response: 'named-my-need', group: 'regulated', count: 1 },
      { response: 'paused', group: 'regulated', count: 1 },
    ])
    expect(result.assessmentScores).toEqual([])
  })

  it('puts the same entries in other weeks and periods in UTC, leaving an empty week in the series', async () => {
    const result = await insights('from=2025-03-03&to=2025-03-23&bucket=week&tz=UTC')
    expect(result).toMatchObject({ from: '2025-03-03T00:00:00.000Z', to: '2025-03-23T23:59:59.999Z', timeZone: 'UTC' })
    expect(result.buckets).toEqual([
      {
        start: '2025-03-03',
        end: '2025-03-09',
        mood: { count: 4, mean: 4.5, min: 3, max: 6 },
        conflict: {
          count: 3,
          meanIntensity: 6.33,
          regulated: 1,
          reactive: 2,
          responses: [
            { response: 'withdrew', group: 'reactive', count: 2 },
            { response: 'paused', group: 'regulated', count: 1 },
          ],
        },
        flaggedEntries: 0,
      },
      empty('2025-03-10', '2025-03-16'),
      {
        start: '2025-03-17',
        end: '2025-03-23',
        mood: { count: 3, mean: 5.33, min: 1, max: 8 },
        conflict: {
          count: 3,
          meanIntensity: 6.5,
          regulated: 1,
          reactive: 1,
          responses: [
            { response: 'escalated', group: 'reactive', count: 1 },
            { response: 'named-my-need', group: 'regulated', count: 1 },
          ],
        },
        flaggedEntries: 0,
      },
    ])
    expect(result.totals).toEqual({ entries: 7, meanMood: 4.86, conflicts: 6, meanIntensity: 6.4, flaggedEntries: 0 })
  })

  it('buckets by calendar month, across a DST change, and takes date-times as exact instants', async () => {
    const result = await insights('from=2025-02-01&to=2025-03-31&bucket=month&tz=Europe/Berlin')
    expect(result.to).toBe('2025-03-31T21:59:59.999Z') // CEST from 30 March
    expect(result.buckets.map((b) => [b.start, b.end, b.mood])).toEqual([
      ['2025-02-01', '2025-02-28', { count: 0, mean: null, min: null, max: null }],
      ['2025-03-01', '2025-03-31', { count: 8, mean: 4.5, min: 1, max: 8 }],
    ])
    expect(result.buckets[1]?.conflict).toMatchObject({ count: 6, regulated: 2, reactive: 3 })

    const exact = await insights('from=2025-03-09T22:30:00Z&to=2025-03-09T23:30:00Z&tz=Europe/Berlin')
    expect(exact.totals.entries).toBe(2)
    expect(exact.buckets.map((b) => [b.start, b.mood.count])).toEqual([
      ['2025-03-03', 1],
      ['2025-03-10', 1],
    ])
  })

  it('defaults to the last 12 weeks or months, up to now', async () => {
    const before = Date.now()
    const weeks = await insights('')
    expect(weeks).toMatchObject({ bucket: 'week', timeZone: 'UTC' })
    expect(Date.parse(weeks.to)).toBeGreaterThanOrEqual(before)
    expect(weeks.buckets).toHaveLength(12)
    for (let i = 1; i < 12; i++) expect(weeks.buckets[i]?.start).toBe(addDays(weeks.buckets[i - 1]!.start, 7))
    expect(new Date(`${weeks.buckets[0]!.start}T00:00:00Z`).getUTCDay()).toBe(1) // Monday
    expect(weeks.from).toBe(`${weeks.buckets[0]!.start}T00:00:00.000Z`)
    const months = await insights('bucket=month&tz=America/New_York')
    expect(months.buckets).toHaveLength(12)
    expect(months.buckets.every((b) => b.start.endsWith('-01'))).toBe(true)
  })

  it('defaults `from` in the user’s zone without asking the database, and runs four queries either way', async () => {
    const statements: string[] = []
    const counting = { query: <Row>(sql: string, params?: unknown[]) => (statements.push(sql), app.db.query<Row>(sql, params)) }
    const service = createJournalInsights({ db: counting, trail: app.db.prisma })
    // 2025-03-23 10:00 UTC is Monday 2025-03-24 00:00 in Kiritimati (UTC+14): its week begins that day.
    const weeks = await service.insights(user.user.id, InsightsQuerySchema.parse({ to: '2025-03-23T10:00:00Z', tz: 'Pacific/Kiritimati' }), SELF)
    expect(statements).toHaveLength(4)
    expect(weeks.buckets).toHaveLength(12)
    expect(weeks.buckets[0]!.start).toBe('2025-01-06')
    expect(weeks.from).toBe('2025-01-05T10:00:00.000Z')
    // An hour earlier it is still Sunday there: the twelve weeks start a week earlier.
    const earlier = await service.insights(user.user.id, InsightsQuerySchema.parse({ to: '2025-03-23T09:00:00Z', tz: 'Pacific/Kiritimati' }), SELF)
    expect(earlier.buckets[0]!.start).toBe('2024-12-30')
    // Months, across a year boundary, with the period's totals adding up its buckets.
    statements.length = 0
    const months = await service.insights(user.user.id, InsightsQuerySchema.parse({ to: '2025-03-23T22:30:00Z', bucket: 'month', tz: 'Europe/Berlin' }), SELF)
    expect(statements).toHaveLength(4)
    expect(months.from).toBe('2024-03-31T22:00:00.000Z')
    expect(months.buckets.map((bucket) => bucket.start)).toEqual(Array.from({ length: 12 }, (_, i) => `${i < 9 ? 2024 : 2025}-${String(((i + 3) % 12) + 1).padStart(2, '0')}-01`))
    expect(months.totals).toEqual({ entries: 7, meanMood: 5, conflicts: 5, meanIntensity: 5.75, flaggedEntries: 0 })
  })

  it.each([
    ['an unknown bucket', 'bucket=day', 'bucket'],
    ['an unknown time zone', 'tz=Europe/Atlantis', 'tz'],
    ['from after to', 'from=2025-03-10&to=2025-03-01', 'from'],
    ['from after now, without to', 'from=2999-01-01', 'from'],
    ['more than 10 years', 'from=2010-01-01&to=2025-01-01', 'from'],
    ['a malformed date', 'to=March', 'to'],
  ])('refuses %s', async (_label, query, field) => {
    const res = await app.inject({ method: 'GET', url: `/v1/journal/insights?${query}`, headers: user.headers })
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json().errors.map((e: { field: string }) => e.field)).toEqual([field])
  })

  it('never decrypts: with a key that opens no entry, the list shows every entry unreadable but insights are the same', async () => {
    const keyless = await buildApp(testConfig({ JOURNAL_ENCRYPTION_KEYS: `unrelated:${randomBytes(32).toString('base64')}` }), { db: app.db })
    try {
      const list = await keyless.inject({ method: 'GET', url: '/v1/journal/entries', headers: user.headers })
      expect(list.statusCode).toBe(200)
      expect(list.json().data.every((entry: { unreadable?: boolean }) => entry.unreadable === true)).toBe(true)
      const query = 'from=2025-03-03&to=2025-03-23&tz=Europe/Berlin'
      expect(await insights(query, user, keyless)).toEqual(await insights(query))
    } finally {
      await keyless.close()
    }
  })

  describe('writing streaks', () => {
    // Kiritimati is UTC+14 all year; `today` is its current date, `midnight` the instant it began.
    const zone = 14 * HOUR
    const midnight = Math.floor((Date.now() + zone) / DAY) * DAY - zone
    const today = new Date(midnight + zone).toISOString().slice(0, 10)
    const at = (instant: number) => new Date(instant).toISOString()
    /** Noon in Kiritimati, `days` before today: 22:00 UTC the day before. */
    const kiritimatiNoon = (days: number) => at(midnight - days * DAY + 12 * HOUR)

    it('counts consecutive local days, so the same entries make different streaks in different zones', async () => {
      const writer = await registerUser(app)
      // An old run of five days…
      for (let days = 20; days >= 16; days--) await writeEntry(app, writer, { occurredAt: kiritimatiNoon(days) })
      // …and three entries one hour either side of midnight in Kiritimati (that are 10:00, 11:00 and 09:00 UTC).
      await writeEntry(app, writer, { occurredAt: at(midnight - 2 * DAY + 23 * HOUR) }) // today-2 23:00 there
      await writeEntry(app, writer, { occurredAt: at(midnight - DAY + 1 * HOUR) }) // today-1 01:00 there
      await writeEntry(app, writer, { occurredAt: at(midnight) }) // today 00:00 there

      const there = await insights('tz=Pacific/Kiritimati', writer)
      expect(there.streaks).toEqual({ current: 3, longest: 5, longestStart: addDays(today, -20), longestEnd: addDays(today, -16), lastEntryDay: today })
      // In UTC the first two fall on one day (today-2), the third on today-1, and the old run a day earlier.
      const utc = await insights('tz=UTC', writer)
      expect(utc.streaks).toEqual({ current: 2, longest: 5, longestStart: addDays(today, -21), longestEnd: addDays(today, -17), lastEntryDay: addDays(today, -1) })
      // Streaks ignore the period asked for.
      expect((await insights('from=2025-01-01&to=2025-01-31&tz=Pacific/Kiritimati', writer)).streaks).toEqual(there.streaks)
    })

    it('keeps a streak alive through the day after its last entry, and ends it after that', async () => {
      const kept = await registerUser(app)
      await writeEntry(app, kept, { occurredAt: kiritimatiNoon(2) })
      await writeEntry(app, kept, { occurredAt: kiritimatiNoon(1) })
      expect((await insights('tz=Pacific/Kiritimati', kept)).streaks).toMatchObject({ current: 2, longest: 2, lastEntryDay: addDays(today, -1) })

      const lapsed = await registerUser(app)
      await writeEntry(app, lapsed, { occurredAt: kiritimatiNoon(3) })
      await writeEntry(app, lapsed, { occurredAt: kiritimatiNoon(2) })
      expect((await insights('tz=Pacific/Kiritimati', lapsed)).streaks).toMatchObject({ current: 0, longest: 2, lastEntryDay: addDays(today, -2) })

      const newcomer = await registerUser(app)
      expect((await insights('', newcomer)).streaks).toEqual({ current: 0, longest: 0, longestStart: null, longestEnd: null, lastEntryDay: null })
    })
  })

  describe('assessment scores beside mood', () => {
    it('asks the score provider for the user and period, and returns its series', async () => {
      const calls: Array<[string, string, string]> = []
      const series = [{ instrumentId: 'gad-7', points: [{ takenAt: '2025-03-04T08:00:00.000Z', score: 12 }, { takenAt: '2025-03-20T08:00:00.000Z', score: 7 }] }]
      const provider: ScoreSeriesProvider = async (userId, from, to) => {
        calls.push([userId, from.toISOString(), to.toISOString()])
        return series
      }
      const query = InsightsQuerySchema.parse({ from: '2025-03-03', to: '2025-03-23', tz: 'Europe/Berlin' })
      const result = await createJournalInsights({ db: app.db, trail: app.db.prisma, scoreSeries: provider }).insights(user.user.id, query, SELF)
      expect(calls).toEqual([[user.user.id, '2025-03-02T23:00:00.000Z', '2025-03-23T22:59:59.999Z']])
      expect(result.assessmentScores).toEqual(series)
      expect(JournalInsightsSchema.parse(result)).toEqual(result)
      expect((await createJournalInsights({ db: app.db, trail: app.db.prisma }).insights(user.user.id, query, SELF)).assessmentScores).toEqual([])
    })
  })
})
