import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { registerUser } from '../helpers/auth.js'
import { buildTestApp } from '../helpers/app.js'

/** The journal's insights carry the user's assessment scores, so an app can draw one progress picture. */
describe('journal insights with assessment scores', () => {
  let app: App
  beforeAll(async () => {
    app = await buildTestApp()
  })
  afterAll(async () => {
    await app.close()
  })

  const phq9 = (values: number[], takenAt: string) => ({
    instrumentId: 'phq-9',
    takenAt,
    answers: values.map((value, i) => ({ itemId: `phq9-${i + 1}`, value })),
  })

  it('puts the scores taken in the period beside mood, per instrument in time order, and only the owner’s', async () => {
    const [user, other] = [await registerUser(app), await registerUser(app)]
    const post = (who: typeof user, url: string, payload: object) => app.inject({ method: 'POST', url, headers: who.headers, payload })
    const first = await post(user, '/v1/assessments', phq9([2, 2, 2, 2, 1, 1, 1, 1, 0], '2026-10-05T08:00:00.000Z'))
    expect(first.statusCode, first.body).toBe(201)
    expect((await post(user, '/v1/assessments', phq9([1, 1, 1, 1, 1, 0, 0, 0, 0], '2026-10-26T08:00:00.000Z'))).statusCode).toBe(201)
    expect((await post(user, '/v1/assessments', phq9([3, 3, 3, 3, 3, 3, 3, 3, 0], '2025-01-01T08:00:00.000Z'))).statusCode).toBe(201)
    expect((await post(other, '/v1/assessments', phq9([3, 3, 3, 3, 3, 3, 3, 3, 0], '2026-10-10T08:00:00.000Z'))).statusCode).toBe(201)
    expect((await post(user, '/v1/journal/entries', { body: 'A calmer week.', mood: 6, occurredAt: '2026-10-20T12:00:00.000Z' })).statusCode).toBe(201)

    const res = await app.inject({
      method: 'GET',
      url: '/v1/journal/insights?from=2026-10-01&to=2026-10-31&bucket=week&tz=UTC',
      headers: user.headers,
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().assessmentScores).toEqual([
      {
        instrumentId: 'phq-9',
        points: [
          { takenAt: '2026-10-05T08:00:00.000Z', score: 12 },
          { takenAt: '2026-10-26T08:00:00.000Z', score: 5 },
        ],
      },
    ])
  })
})
