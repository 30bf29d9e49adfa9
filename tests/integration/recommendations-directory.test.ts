import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { CLIENT_FOCUSES, MODALITIES, RECOMMENDATION_RULES, SPECIALTIES } from '../../src/modules/assessments/recommendation-rules.js'
import { directorySearchHref } from '../../src/modules/assessments/recommendations.js'
import { registerUser, type TestUser } from '../helpers/auth.js'
import { buildTestApp } from '../helpers/app.js'

/** Assessment recommendations name directory vocabulary: every slug must exist, every link must search. */
describe('recommendations and the directory', () => {
  let app: App
  let user: TestUser
  beforeAll(async () => {
    app = await buildTestApp()
    user = await registerUser(app)
  })
  afterAll(async () => {
    await app.close()
  })

  it('uses only modality, specialty and client-focus slugs the directory knows', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/vocabularies', headers: user.headers })
    const vocabularies = res.json<Record<'modalities' | 'specialties' | 'clientFocus', { slug: string }[]>>()
    const slugs = (kind: 'modalities' | 'specialties' | 'clientFocus') => vocabularies[kind].map((term) => term.slug)
    expect(slugs('modalities')).toEqual(expect.arrayContaining([...MODALITIES]))
    expect(slugs('specialties')).toEqual(expect.arrayContaining([...SPECIALTIES]))
    expect(slugs('clientFocus')).toEqual(expect.arrayContaining([...CLIENT_FOCUSES]))
  })

  it('links every rule to a directory search that answers 200 for the user', async () => {
    for (const rule of RECOMMENDATION_RULES) {
      const href = directorySearchHref(rule)
      const res = await app.inject({ method: 'GET', url: href, headers: user.headers })
      expect(res.statusCode, `${rule.id}: ${href} ${res.body}`).toBe(200)
    }
  })
})
