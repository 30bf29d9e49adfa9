import { beforeAll, describe, expect, it } from 'vitest'
import { TherapistSearchQuerySchema, TherapistSearchResultSchema, VocabulariesSchema } from '../../src/modules/directory/directory-schemas.js'
import { createDirectoryService } from '../../src/modules/directory/directory-service.js'
import { CENTER, parseProfile, createTherapist, distanceKm, isolatedDirectory, pointAt, searchesByEngine, type TherapistInput } from '../helpers/directory.js'

/**
 * Search against a hand-built directory whose right answers are known: every filter alone and
 * combined (checked against a brute-force reading of the same fixture), vocabulary aliases,
 * radius edges, distance to the nearest office, telehealth by licence, full text, facets.
 */

interface Fixture {
  input: TherapistInput
  id?: string
}

const office = (km: number, bearing: number, extra: Partial<{ city: string; state: string; postalCode: string }> = {}) => ({
  street: `${Math.round(km * 10)} Test St`,
  city: extra.city ?? 'San Francisco',
  state: extra.state ?? 'CA',
  postalCode: extra.postalCode ?? '94110',
  ...pointAt(km, bearing),
})

const base = { license: { type: 'lmft', state: 'CA' }, acceptingNewClients: true, formats: ['telehealth'] }
const FIXTURES: Record<string, Fixture> = {
  avery: {
    input: {
      ...base, name: 'Avery Adams', license: { type: 'LMFT', state: 'CA' }, bio: 'Healing attachment wounds so couples feel safe again, and untangling codependency. Therapy with warmth.',
      modalities: ['Attachment based', 'Emotionally Focused Therapy'], specialties: ['Relationship Problems', 'attachment'], clientFocus: ['individuals', 'couples'],
      formats: ['in_person', 'telehealth'], offices: [office(5, 0)], feeMin: 120, feeMax: 160, slidingScale: true, languages: ['en', 'es-MX'], insurance: ['Aetna'],
    },
  },
  blake: {
    input: {
      ...base, name: 'Blake Brown', license: { type: 'psychologist', state: 'CA' }, bio: 'Structured therapy for anxiety and low mood using CBT and ACT.',
      modalities: ['CBT', 'act'], specialties: ['anxiety', 'depression'], clientFocus: ['individuals'], formats: ['in_person'], offices: [office(39.9, 90)],
      feeMin: 200, feeMax: 250, acceptingNewClients: false, insurance: [],
    },
  },
  casey: {
    input: {
      ...base, name: 'Casey Chen', license: { type: 'LCSW', state: 'CA' }, bio: 'Grief and anxiety therapy for teens and adults; psychodynamic and cognitive work.',
      modalities: ['cognitive behavioral therapy', 'psychodynamic'], specialties: ['anxiety', 'grief'], clientFocus: ['individuals', 'teens'],
      formats: ['in_person', 'telehealth'], offices: [office(40.1, 90)], feeMin: 90, feeMax: 120, slidingScale: true, languages: ['en', 'zh'],
    },
  },
  devon: {
    input: {
      ...base, name: 'Devon Diaz', license: { type: 'lpc', state: 'OR', licensedStates: ['CA'] }, bio: 'Online therapy for grief, loss and trauma. Se habla español.',
      modalities: ['psychodynamic'], specialties: ['grief', 'trauma'], clientFocus: ['individuals'], formats: ['telehealth'], feeMin: 100, feeMax: 100, languages: ['es'],
    },
  },
  emery: {
    input: {
      ...base, name: 'Emery Evans', bio: 'Gottman Method therapy for couples recovering from infidelity and learning to communicate.',
      modalities: ['Gottman', 'EFT', 'CBT'], specialties: ['communication', 'infidelity', 'relationship issues'], clientFocus: ['couples'], formats: ['in_person'],
      offices: [office(30, 180, { city: 'Daly City', postalCode: '94015' }), office(10, 180)], feeMin: 150, feeMax: 200, insurance: ['Cigna', 'aetna'],
    },
  },
  finley: {
    input: {
      ...base, name: 'Finley Fox', license: { type: 'psychiatrist', state: 'NY' }, bio: 'Medication management and therapy for depression.',
      modalities: ['cbt'], specialties: ['depression'], clientFocus: ['individuals'], formats: ['in_person'],
      offices: [{ street: '1 Broadway', city: 'New York', state: 'NY', postalCode: '10004', latitude: 40.7052, longitude: -74.0141 }], feeMin: null, feeMax: null,
    },
  },
  gray: {
    input: {
      ...base, name: 'Gray Garcia', license: { type: 'lcsw', state: 'NY' }, bio: 'Trauma therapy with IFS and EMDR, online.',
      modalities: ['IFS', 'EMDR'], specialties: ['trauma'], clientFocus: ['individuals'], formats: ['telehealth'], feeMin: 130, feeMax: 180,
    },
  },
  harper: {
    input: {
      ...base, name: 'Harper Hill', license: { type: 'LMHC', state: 'CA' }, bio: 'Therapy for codependency and boundaries, grounded in attachment science.',
      modalities: ['attachment-focused', 'CBT'], specialties: ['codependency', 'Setting Boundaries'], clientFocus: ['individuals', 'couples'],
      formats: ['in_person', 'telehealth'], offices: [office(20, 270, { city: 'san francisco' })], feeMin: 60, feeMax: 80, slidingScale: true,
    },
  },
}
const DELETED: TherapistInput = {
  ...base, name: 'Indigo Ito', bio: 'Attachment-based therapy, close by.', modalities: ['attachment-based'], specialties: ['attachment'],
  formats: ['in_person'], offices: [office(1, 45)], feeMin: 50,
}

// ---------- brute force over the fixture, written from the filters' documented meaning ----------

const SLUG: Record<string, string> = {
  'attachment based': 'attachment-based', 'attachment-focused': 'attachment-based', 'attachment-based': 'attachment-based',
  'emotionally focused therapy': 'eft', eft: 'eft', cbt: 'cbt', 'cognitive behavioral therapy': 'cbt', act: 'act', psychodynamic: 'psychodynamic',
  gottman: 'gottman', ifs: 'ifs', emdr: 'emdr', 'relationship problems': 'relationship-issues', 'relationship issues': 'relationship-issues',
  'setting boundaries': 'boundaries', lmft: 'lmft', lcsw: 'lcsw', lmhc: 'lmhc', lpc: 'lpc', psychologist: 'psychologist', psychiatrist: 'psychiatrist',
}
const slug = (value: string) => SLUG[value.toLowerCase()] ?? value.toLowerCase()

interface Row {
  key: string
  modalities: string[]
  specialties: string[]
  clientFocus: string[]
  formats: string[]
  licenseType: string
  licensedStates: string[]
  languages: string[]
  insurance: string[]
  feeMin: number | null
  slidingScale: boolean
  accepting: boolean
  offices: { city: string; state: string; latitude: number; longitude: number }[]
}
const rows: Row[] = Object.entries(FIXTURES).map(([key, { input }]) => ({
  key,
  modalities: (input.modalities ?? []).map(slug),
  specialties: (input.specialties ?? []).map(slug),
  clientFocus: input.clientFocus ?? [],
  formats: input.formats,
  licenseType: slug(input.license.type),
  licensedStates: [input.license.state, ...(input.license.licensedStates ?? [])],
  languages: input.languages ?? ['en'],
  insurance: (input.insurance ?? []).map((name) => name.toLowerCase()),
  feeMin: input.feeMin ?? null,
  slidingScale: input.slidingScale ?? false,
  accepting: input.acceptingNewClients,
  offices: (input.offices ?? []).map((o) => ({ city: o.city, state: o.state, latitude: o.latitude ?? 0, longitude: o.longitude ?? 0 })),
}))

type Params = Record<string, string>
type Facet = 'modality' | 'specialty' | 'format' | 'clientFocus' | 'licenseType'
const list = (value: string | undefined) => (value === undefined ? [] : value.split(',').map(slug))

function bruteForce(params: Params, except?: Facet): Row[] {
  return rows.filter((row) => {
    const mods = list(params.modality)
    if (except !== 'modality' && mods.length > 0) {
      if (params.modalityMatch === 'all' ? !mods.every((m) => row.modalities.includes(m)) : !mods.some((m) => row.modalities.includes(m))) return false
    }
    const anyOf = (facet: Facet, wanted: string[], have: string[]) => except === facet || wanted.length === 0 || wanted.some((w) => have.includes(w))
    if (!anyOf('specialty', list(params.specialty), row.specialties)) return false
    if (!anyOf('clientFocus', list(params.clientFocus), row.clientFocus)) return false
    if (!anyOf('format', list(params.format), row.formats)) return false
    if (!anyOf('licenseType', list(params.licenseType), [row.licenseType])) return false
    if (params.language && !params.language.split(',').some((lang) => row.languages.some((have) => have === lang || have.split('-')[0] === lang))) return false
    if (params.insurance && !list(params.insurance).some((name) => row.insurance.includes(name))) return false
    if (params.maxFee && !(row.feeMin !== null && row.feeMin <= Number(params.maxFee))) return false
    if (params.slidingScale && row.slidingScale !== (params.slidingScale === 'true')) return false
    if (params.acceptingNewClients && row.accepting !== (params.acceptingNewClients === 'true')) return false
    const radius = Number(params.radiusKm ?? 40)
    const [lat, lon] = (params.near ?? '').split(',').map(Number)
    const officeOk = (o: Row['offices'][number]) =>
      (!params.state || o.state === params.state) &&
      (!params.city || o.city.toLowerCase() === params.city.toLowerCase()) &&
      (!params.near || distanceKm(o, { latitude: lat ?? 0, longitude: lon ?? 0 }) <= radius)
    if ((params.state || params.city || params.near) && !row.offices.some(officeOk)) return false
    return true
  })
}

// Every search twice: answered by the in-process index, and by SQL alone (the index off); both must agree with the brute force.
describe.each(['memory', 'off'] as const)('directory search (DIRECTORY_INDEX=%s)', (mode) => {
  const ctx = isolatedDirectory({ DIRECTORY_INDEX: mode })
  const idOf: Record<string, string> = {}
  const keyOf = (id: string) => Object.entries(idOf).find(([, value]) => value === id)?.[0] ?? id

  beforeAll(async () => {
    for (const [key, fixture] of Object.entries(FIXTURES)) idOf[key] = await createTherapist(ctx.app(), fixture.input)
    const deleted = await createTherapist(ctx.app(), DELETED)
    idOf.indigo = deleted
    expect((await ctx.app().inject({ method: 'DELETE', url: `/v1/therapists/${deleted}` })).statusCode).toBe(204)
  })

  async function search(params: Params) {
    const res = await ctx.app().inject({ method: 'GET', url: `/v1/therapists?${new URLSearchParams({ limit: '100', ...params }).toString()}` })
    if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    // The body is JSON built by Postgres: it must still be exactly the documented shape.
    const body = TherapistSearchResultSchema.parse(res.json())
    return { body, keys: body.data.map((hit) => keyOf(hit.id)) }
  }

  const sorted = (keys: string[]) => [...keys].sort()

  const SINGLE: Params[] = [
    { modality: 'cbt' },
    { modality: 'attachment-based,gottman' },
    { modality: 'cbt,eft', modalityMatch: 'all' },
    { specialty: 'grief' },
    { specialty: 'attachment,codependency' },
    { clientFocus: 'couples' },
    { clientFocus: 'teens,couples' },
    { format: 'telehealth' },
    { format: 'in_person' },
    { licenseType: 'lmft' },
    { licenseType: 'lcsw,psychiatrist' },
    { language: 'es' },
    { language: 'es-MX' },
    { language: 'zh' },
    { insurance: 'aetna' },
    { insurance: 'CIGNA,Medicare' },
    { maxFee: '100' },
    { maxFee: '150' },
    { slidingScale: 'true' },
    { slidingScale: 'false' },
    { acceptingNewClients: 'true' },
    { acceptingNewClients: 'false' },
    { state: 'CA' },
    { state: 'NY' },
    { city: 'san francisco' },
    { city: 'Daly City', state: 'CA' },
    { near: `${CENTER.latitude},${CENTER.longitude}` },
    { near: `${CENTER.latitude},${CENTER.longitude}`, radiusKm: '15' },
    { near: `${CENTER.latitude},${CENTER.longitude}`, radiusKm: '500' },
  ]
  it.each(SINGLE)('filter %j finds exactly the matching therapists', async (params) => {
    const { keys } = await search(params)
    expect(sorted(keys)).toEqual(sorted(bruteForce(params).map((row) => row.key)))
  })

  const COMBINED: Params[] = [
    { modality: 'cbt', acceptingNewClients: 'true', maxFee: '150' },
    { modality: 'attachment-based', near: `${CENTER.latitude},${CENTER.longitude}`, radiusKm: '25', acceptingNewClients: 'true' },
    { specialty: 'anxiety', format: 'telehealth', language: 'zh' },
    { clientFocus: 'couples', insurance: 'aetna', state: 'CA' },
    { modality: 'cbt,psychodynamic', modalityMatch: 'all', specialty: 'grief', slidingScale: 'true' },
    { licenseType: 'lmft,lmhc', format: 'in_person', near: `${CENTER.latitude},${CENTER.longitude}`, radiusKm: '45', maxFee: '200' },
  ]
  it.each(COMBINED)('combined filters %j find exactly the therapists matching all of them', async (params) => {
    const { keys } = await search(params)
    const expected = bruteForce(params).map((row) => row.key)
    expect(expected.length).toBeGreaterThan(0)
    expect(sorted(keys)).toEqual(sorted(expected))
  })

  it('reads vocabulary values by slug, name or alias in any case', async () => {
    const bySlug = await search({ modality: 'attachment-based' })
    expect(sorted(bySlug.keys)).toEqual(['avery', 'harper'])
    for (const spelling of ['Attachment based', 'ATTACHMENT-FOCUSED', 'attachment focused therapy', 'Attachment-Based Therapy']) {
      const res = await search({ modality: spelling })
      expect(sorted(res.keys)).toEqual(['avery', 'harper'])
      expect(res.body.applied.modality).toEqual(['attachment-based'])
    }
    expect(sorted((await search({ modality: 'Emotionally Focused Therapy' })).keys)).toEqual(['avery', 'emery'])
    expect((await search({ modality: 'cbt' })).keys).toEqual((await search({ modality: 'Cognitive Behavioural Therapy' })).keys)
    expect(sorted((await search({ specialty: 'Relationship Problems' })).keys)).toEqual(['avery', 'emery'])
    expect((await search({ licenseType: 'LICSW' })).body.applied.licenseType).toEqual(['lcsw'])
  })

  it('refuses an unknown vocabulary value with a problem listing the valid ones', async () => {
    const res = await ctx.app().inject({ method: 'GET', url: '/v1/therapists?modality=cbt,Telepathy' })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    const problem = res.json()
    expect(problem).toMatchObject({ code: 'unknown_term', status: 400, errors: [{ in: 'query', field: 'modality', code: 'unknown_term' }] })
    expect(problem.detail).toContain('"Telepathy"')
    expect(problem.validValues.modality).toEqual(expect.arrayContaining(['cbt', 'psychodynamic', 'attachment-based', 'eft']))
    const specialty = await ctx.app().inject({ method: 'GET', url: '/v1/therapists?specialty=nonsense' })
    expect(specialty.json()).toMatchObject({ code: 'unknown_term', validValues: { specialty: expect.arrayContaining(['codependency', 'boundaries']) } })
  })

  it('counts 39.9 km as inside the default 40 km radius and 40.1 km as outside', async () => {
    const near = `${CENTER.latitude},${CENTER.longitude}`
    const { body, keys } = await search({ near, modality: 'cbt' })
    expect(keys).toContain('blake')
    expect(keys).not.toContain('casey')
    expect(body.applied.location).toMatchObject({ radiusKm: 40 })
    expect(body.data.find((hit) => keyOf(hit.id) === 'blake')?.match.distanceKm).toBeCloseTo(39.9, 1)
    expect((await search({ near, modality: 'cbt', radiusKm: '40.2' })).keys).toContain('casey')
  })

  it('sorts by distance to each therapist’s nearest office, which it reports', async () => {
    const { body, keys } = await search({ near: `${CENTER.latitude},${CENTER.longitude}`, radiusKm: '45' })
    expect(body.applied.sort).toBe('distance')
    expect(keys).toEqual(['avery', 'emery', 'harper', 'blake', 'casey'])
    const emery = body.data[1]
    expect(emery?.match).toMatchObject({ distanceKm: 10, via: 'office' })
    expect(emery?.location).toEqual({ city: 'San Francisco', state: 'CA', postalCode: '94110' })
    const distances = body.data.map((hit) => hit.match.distanceKm ?? Infinity)
    expect(distances).toEqual([...distances].sort((a, b) => a - b))
  })

  it('adds telehealth therapists licensed in the searcher’s state when asked, after the nearby ones', async () => {
    const { body, keys } = await search({ postalCode: '94110', radiusKm: '15', includeTelehealth: 'true', specialty: 'grief,trauma,communication' })
    expect(body.applied.location?.state).toBe('CA')
    // Emery's office is near; Devon (telehealth, licensed in CA) is added; Gray is licensed only in NY; Casey is too far and… also telehealth in CA.
    expect(keys.slice(0, 1)).toEqual(['emery'])
    expect(sorted(keys.slice(1))).toEqual(['casey', 'devon'])
    expect(body.data.slice(1).every((hit) => hit.match.via === 'telehealth')).toBe(true)
    expect(keys).not.toContain('gray')
    const without = await search({ postalCode: '94110', radiusKm: '15', specialty: 'grief,trauma,communication' })
    expect(without.keys).toEqual(['emery'])
  })

  it('searches full text with ranking, prefix matching and a highlighted snippet', async () => {
    const { body, keys } = await search({ q: 'grief' })
    expect(body.applied.sort).toBe('relevance')
    expect(sorted(keys)).toEqual(['casey', 'devon'])
    for (const hit of body.data) {
      expect(hit.match.snippet).toMatch(/<mark>Grief<\/mark>|<mark>grief<\/mark>/)
      expect(hit.match.rank).toBeGreaterThan(0)
    }
    expect(keys).toEqual(['casey', 'devon'])
    // A match in the therapist's own specialties (Harper lists codependency) ranks above a bio-only one (Avery), whatever the names.
    expect((await search({ q: 'codependency' })).keys).toEqual(['harper', 'avery'])
    // Prefix: "attach" while typing; names weigh most.
    expect(sorted((await search({ q: 'attach' })).keys)).toEqual(['avery', 'harper'])
    expect((await search({ q: 'Chen therapy' })).keys[0]).toBe('casey')
    // Modality names and aliases are searchable too: Emery lists the Gottman Method, Avery lists EFT.
    expect(sorted((await search({ q: 'emotionally focused' })).keys)).toEqual(['avery', 'emery'])
    // Combined with filters, and websearch syntax.
    expect((await search({ q: 'grief', modality: 'cbt' })).keys).toEqual(['casey'])
    expect((await search({ q: 'grief -online' })).keys).toEqual(['casey'])
  })

  it('finds a therapist by the state of any office, not only the first, on every page', async () => {
    const id = await createTherapist(ctx.app(), {
      ...base,
      name: 'Aaa Two-States',
      formats: ['in_person'],
      offices: [
        { street: '1 Strip', city: 'Reno', state: 'NV', postalCode: '89501' },
        { street: '2 Main', city: 'Truckee', state: 'CA', postalCode: '96161' },
      ],
    })
    try {
      for (const state of ['CA', 'NV']) {
        const seen: string[] = []
        let cursor: string | null = null
        do {
          const { body } = await search({ state, limit: '2', ...(cursor ? { cursor } : {}) })
          seen.push(...body.data.map((hit) => keyOf(hit.id)))
          cursor = body.page.nextCursor
        } while (cursor !== null)
        const expected = [id, ...bruteForce({ state }).map((row) => row.key)]
        expect(sorted(seen), state).toEqual(sorted(state === 'NV' ? [id] : expected))
      }
    } finally {
      await ctx.app().inject({ method: 'DELETE', url: `/v1/therapists/${id}` })
    }
  })

  it('escapes HTML in snippets, leaving only the highlight tags', async () => {
    const id = await createTherapist(ctx.app(), { ...base, name: 'Jules Jordan', bio: 'I treat <script>alert(1)</script> zebrafishphobia & more.' })
    try {
      const { body } = await search({ q: 'zebrafishphobia' })
      const snippet = body.data[0]?.match.snippet ?? ''
      expect(snippet).toContain('<mark>zebrafishphobia</mark> &amp; more')
      // The text-search parser drops markup from headlines; whatever else is left is escaped.
      expect(snippet.replace(/<\/?mark>/g, '')).not.toMatch(/[<>]/)
    } finally {
      await ctx.app().inject({ method: 'DELETE', url: `/v1/therapists/${id}` })
    }
  })

  it('says why each hit matched: the requested modalities and specialties it has', async () => {
    const { body } = await search({ modality: 'cbt,eft', specialty: 'infidelity,anxiety' })
    const emery = body.data.find((hit) => keyOf(hit.id) === 'emery')
    expect(emery?.match).toMatchObject({ modalities: ['cbt', 'eft'], specialties: ['infidelity'], distanceKm: null, via: null, snippet: null })
    const blake = body.data.find((hit) => keyOf(hit.id) === 'blake')
    expect(blake?.match).toMatchObject({ modalities: ['cbt'], specialties: ['anxiety'] })
  })

  it('sorts by name and by lowest fee (no fee last)', async () => {
    expect((await search({ sort: 'name' })).keys).toEqual(['avery', 'blake', 'casey', 'devon', 'emery', 'finley', 'gray', 'harper'])
    expect((await search({})).body.applied.sort).toBe('name')
    expect((await search({ sort: 'fee' })).keys).toEqual(['harper', 'casey', 'devon', 'avery', 'gray', 'emery', 'blake', 'finley'])
  })

  it('refuses a sort that needs what is missing, and contradictory locations', async () => {
    for (const [query, code] of [
      ['sort=distance', 'sort_needs_location'],
      ['sort=relevance', 'sort_needs_q'],
      ['near=37,-122&postalCode=94110', 'conflicting_location'],
      ['radiusKm=10', 'radius_without_location'],
      ['postalCode=00000', 'unknown_postal_code'],
      ['includeTelehealth=true', 'telehealth_needs_state'],
      ['facets=modality,colour', 'unknown_facet'],
      ['language=!!', 'invalid_language'],
    ] as const) {
      const res = await ctx.app().inject({ method: 'GET', url: `/v1/therapists?${query}` })
      expect(res.statusCode, query).toBe(400)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(res.json().code, query).toBe(code)
    }
    for (const query of ['radiusKm=501&near=37,-122', 'near=north', 'limit=0', 'sortt=name', 'maxFee=-1', 'acceptingNewClients=yes']) {
      const res = await ctx.app().inject({ method: 'GET', url: `/v1/therapists?${query}` })
      expect(res.statusCode, query).toBe(400)
      expect(res.json().code, query).toBe('validation_failed')
    }
  })

  it('counts facets disjunctively, each ignoring only its own filter', async () => {
    const queries: Params[] = [
      {},
      { modality: 'cbt', format: 'in_person' },
      { modality: 'cbt,attachment-based', specialty: 'anxiety,codependency', acceptingNewClients: 'true', state: 'CA' },
      { clientFocus: 'couples', licenseType: 'lmft', near: `${CENTER.latitude},${CENTER.longitude}`, radiusKm: '50' },
      // Every fixture bio says "therapy", so q narrows nothing here; it checks that text search and facets combine.
      { modality: 'cbt,eft', modalityMatch: 'all', format: 'in_person,telehealth', q: 'therapy' },
    ]
    const fields: Record<Facet, (row: Row) => string[]> = {
      modality: (row) => row.modalities,
      specialty: (row) => row.specialties,
      format: (row) => row.formats,
      clientFocus: (row) => row.clientFocus,
      licenseType: (row) => [row.licenseType],
    }
    // As documented: every term of each facet's vocabulary, zeros included, biggest count first, then by value.
    const vocabularies = VocabulariesSchema.parse((await ctx.app().inject({ method: 'GET', url: '/v1/vocabularies' })).json())
    const terms: Record<Facet, string[]> = {
      modality: vocabularies.modalities.map((term) => term.slug),
      specialty: vocabularies.specialties.map((term) => term.slug),
      format: vocabularies.formats.map((term) => term.slug),
      clientFocus: vocabularies.clientFocus.map((term) => term.slug),
      licenseType: vocabularies.licenseTypes.map((term) => term.slug),
    }
    for (const params of queries) {
      const { body } = await search(params)
      for (const facet of Object.keys(fields) as Facet[]) {
        const counts = new Map<string, number>(terms[facet].map((term) => [term, 0]))
        for (const row of bruteForce(params, facet)) for (const value of fields[facet](row)) counts.set(value, (counts.get(value) ?? 0) + 1)
        const expected = [...counts]
          .map(([value, count]) => ({ value, count }))
          .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
        expect(body.facets?.[facet], `${facet} for ${JSON.stringify(params)}`).toEqual(expected)
      }
    }
    expect((await search({ facets: 'none' })).body.facets).toBeNull()
    expect(Object.keys((await search({ facets: 'format' })).body.facets ?? {})).toEqual(['format'])
  })

  it('hides soft-deleted therapists from search and profiles', async () => {
    const near = await search({ near: `${CENTER.latitude},${CENTER.longitude}`, modality: 'attachment-based' })
    expect(near.keys).not.toContain('indigo')
    expect((await search({ q: 'close by' })).keys).toEqual([])
    const profile = await ctx.app().inject({ method: 'GET', url: `/v1/therapists/${idOf.indigo}` })
    expect(profile.statusCode).toBe(404)
    expect(profile.headers['content-type']).toMatch(/^application\/problem\+json/)
    const facets = (await search({})).body.facets
    expect(facets?.licenseType?.reduce((sum, entry) => sum + entry.count, 0)).toBe(Object.keys(FIXTURES).length)
  })

  it('returns the full profile', async () => {
    const res = await ctx.app().inject({ method: 'GET', url: `/v1/therapists/${idOf.emery}` })
    expect(res.statusCode).toBe(200)
    const profile = parseProfile(res.json())
    expect(profile).toMatchObject({
      name: 'Emery Evans',
      license: { type: 'lmft', name: 'Licensed Marriage and Family Therapist', nuccCode: '106H00000X', state: 'CA', licensedStates: ['CA'] },
      modalities: ['gottman', 'eft', 'cbt'],
      specialties: ['communication', 'infidelity', 'relationship-issues'],
      insurance: ['Cigna', 'aetna'],
      acceptingNewClients: true,
    })
    expect(profile.offices.map((o) => o.city)).toEqual(['Daly City', 'San Francisco'])
    expect(profile.acceptingNewClientsVerifiedAt).not.toBeNull()
    expect((await ctx.app().inject({ method: 'GET', url: '/v1/therapists/7a1e2b47-5e0c-4a53-9a6f-3f2f0c3e1b11' })).statusCode).toBe(404)
    expect((await ctx.app().inject({ method: 'GET', url: '/v1/therapists/not-a-uuid' })).statusCode).toBe(400)
  })

  it('answered every search above the way the mode says', async () => {
    const engines = await searchesByEngine(ctx.app().raw)
    if (mode === 'memory') expect(engines).toMatchObject({ index: expect.any(Number), sql: 0 })
    else expect(engines).toMatchObject({ index: 0 })
    expect(engines.index + engines.sql).toBeGreaterThan(50)
  })
})

describe('sort=distance with a small candidate bound', () => {
  const ctx = isolatedDirectory()

  it('widens the bound when a page comes back short, and the next page starts from the wider bound', async () => {
    // Ten therapists 2, 4, … 20 km out, in every direction.
    const ids: string[] = []
    for (let i = 1; i <= 10; i += 1) {
      ids.push(await createTherapist(ctx.app(), { ...base, name: `Ring ${i}`, formats: ['in_person'], offices: [{ street: `${i} Ring Rd`, city: 'San Francisco', state: 'CA', postalCode: '94110', ...pointAt(2 * i, i * 36) }] }))
    }
    const db = ctx.scratch().db
    let pageStatements = 0
    const query = async <Row>(sql: string, params?: unknown[]): Promise<Row[]> => {
      if (sql.includes('AS chord')) pageStatements += 1
      return db.query<Row>(sql, params)
    }
    // Two nearest offices per try, where the API visits 2,048: three hits need a wider try.
    const directory = createDirectoryService({ db: { prisma: db.prisma, query }, distanceCandidates: 2 })
    const seen: string[] = []
    const perPage: number[] = []
    let cursor: string | undefined
    do {
      pageStatements = 0
      const params = { near: `${CENTER.latitude},${CENTER.longitude}`, radiusKm: '50', limit: '3', facets: 'none', ...(cursor ? { cursor } : {}) }
      const body = TherapistSearchResultSchema.parse(JSON.parse(await directory.search(TherapistSearchQuerySchema.parse(params))))
      seen.push(...body.data.map((hit) => hit.id))
      perPage.push(pageStatements)
      cursor = body.page.nextCursor ?? undefined
    } while (cursor !== undefined && perPage.length < 10)
    expect(seen).toEqual(ids)
    // The first page ran at 2, then at 16; every later page ran once, at 16 (it used to start again at 2).
    expect(perPage).toEqual([2, 1, 1, 1])
  })

  it('refuses a cursor whose bound is out of range', async () => {
    const forged = Buffer.from(JSON.stringify({ s: 'distance', b: 0, c: 0.1, id: '7a1e2b47-5e0c-4a53-9a6f-3f2f0c3e1b11', k: 1e9 })).toString('base64url')
    const res = await ctx.app().inject({ method: 'GET', url: `/v1/therapists?near=${CENTER.latitude},${CENTER.longitude}&cursor=${forged}` })
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('invalid_cursor')
    // Cursors issued before the bound was carried still work.
    const old = Buffer.from(JSON.stringify({ s: 'distance', b: 0, c: 0, id: '00000000-0000-4000-8000-000000000000' })).toString('base64url')
    expect((await ctx.app().inject({ method: 'GET', url: `/v1/therapists?near=${CENTER.latitude},${CENTER.longitude}&cursor=${old}` })).statusCode).toBe(200)
  })
})
