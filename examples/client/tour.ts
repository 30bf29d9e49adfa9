/**
 * A typed client for Therapath, as a partner app would write it: the types come from the OpenAPI
 * document (`npm run client:check` generates `therapath.d.ts` with openapi-typescript and type-checks
 * this file against it), the calls go through openapi-fetch. It touches every operation group:
 * operations, auth, directory, assessments, journal and account. Run it against a started server
 * (`API=http://127.0.0.1:3000 npx tsx examples/client/tour.ts`) after `npm run client:check`.
 */
import createClient from 'openapi-fetch'
import type { components, paths } from './therapath.js'

type Problem = components['schemas']['Problem']

const api = createClient<paths>({ baseUrl: process.env.API ?? 'http://127.0.0.1:3000' })

/** A problem's code, typed: the catalogue is an enum in the contract. */
function explain(problem: Problem | undefined): string {
  if (!problem) return 'no problem'
  const code: Problem['code'] = problem.code
  return `${problem.status} ${code}: ${problem.detail}`
}

async function main(): Promise<void> {
  // operations
  const health = await api.GET('/healthz')
  console.log('health', health.data?.status)

  // auth
  const email = `client-${crypto.randomUUID().slice(0, 8)}@example.com`
  const signup = await api.POST('/v1/auth/register', { body: { email, password: 'a long and personal passphrase', displayName: 'Sam' } })
  if (!signup.data) throw new Error(explain(signup.error))
  const headers = { authorization: `Bearer ${signup.data.accessToken}` }

  // directory
  const search = await api.GET('/v1/therapists', {
    params: { query: { modality: 'attachment-based', postalCode: '94110', radiusKm: 25, limit: 3 } },
    headers,
  })
  const first = search.data?.data[0]
  console.log('first hit', first?.name, first?.match)
  if (first) {
    const profile = await api.GET('/v1/therapists/{id}', { params: { path: { id: first.id } }, headers })
    console.log('profile', profile.data?.modalities, profile.response.headers.get('etag'))
  }
  const vocabularies = await api.GET('/v1/vocabularies', { headers })
  console.log('modalities', vocabularies.data?.modalities.length)

  // assessments
  const result = await api.POST('/v1/assessments', {
    body: {
      instrumentId: 'therapy-readiness',
      answers: [
        { itemId: 'stuck-in-arguments', value: 1 },
        { itemId: 'doubt-worth', value: 0 },
        { itemId: 'partner-dismisses', value: 1 },
        { itemId: 'understand-triggers', value: 1 },
        { itemId: 'carrying-weight-alone', value: 1 },
        { itemId: 'deserve-support', value: 0 },
      ],
    },
    params: { header: { 'idempotency-key': crypto.randomUUID() } },
    headers,
  })
  console.log('band', result.data?.result.band.label, 'safety', result.data?.safety.alert)

  // journal
  const entry = await api.POST('/v1/journal/entries', {
    body: { body: 'Took ten minutes outside before answering.', mood: 6, emotions: ['calm'], tags: ['weekend'], conflict: { response: 'paused', intensity: 5 } },
    headers,
  })
  if (!entry.data) throw new Error(explain(entry.error))
  const list = await api.GET('/v1/journal/entries', { params: { query: { tag: 'weekend' } }, headers })
  console.log('entries', list.data?.data.length)
  const insights = await api.GET('/v1/journal/insights', { params: { query: { bucket: 'week' } }, headers })
  console.log('mean mood', insights.data?.totals.meanMood)

  // account
  const exported = await api.GET('/v1/me/export', { headers })
  console.log('exported entries', exported.data?.journalEntries?.length)
  const deleted = await api.DELETE('/v1/me', { headers })
  console.log('deleted', deleted.response.status)
}

await main()
