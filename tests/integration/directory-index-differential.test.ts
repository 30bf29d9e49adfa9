import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedTherapists } from '../../src/modules/directory/directory-seed.js'
import type { ScratchDatabase } from '../helpers/database.js'
import { compareEngines } from '../helpers/differential.js'
import { Random } from '../helpers/random.js'
import { type CuratorClient, curatorApp, migratedScratch, searchesByEngine, type TherapistInput } from '../helpers/directory.js'

/**
 * The directory index must answer every search exactly as SQL alone does. Two instances on one
 * generated directory (DIRECTORY_INDEX=memory and =off) get the same seeded-random searches, combining
 * every filter, text form and sort; their answers are compared whole (hits in order, facet counts,
 * `applied`, whether there is a next page), then their cursors are followed page by page, and each
 * engine's cursor is handed to the other. Then writes go through the index's instance (its live
 * updates) and the comparison runs again.
 *
 * A failure lists each differing search as a URL to replay, with the first difference. Another
 * seed: DIRECTORY_DIFF_SEED=<n>.
 */

const SEED = Number(process.env.DIRECTORY_DIFF_SEED ?? 20261130)
const THERAPISTS = 1500
/** First pages compared before and after the writes. */
const QUERIES = 180
const QUERIES_AFTER_WRITES = 100

/** Hand-made therapists the generator does not make: characters beyond U+FFFF and in U+E000–U+FFFF, offices on one point, the antimeridian, subtags. */
function edgeTherapists(): TherapistInput[] {
  const base = { license: { type: 'lcsw', state: 'CA' }, acceptingNewClients: true, formats: ['in_person', 'telehealth'] }
  const at = (latitude: number, longitude: number, city: string, state: string, postalCode: string) => ({ street: '1 Edge St', city, state, postalCode, latitude, longitude })
  const sf = { latitude: 37.7599, longitude: -122.4148 }
  const list: TherapistInput[] = []
  const names = ['Ægir 😀 Astral', 'Ægir \uFFFD Private', 'Ægir \uE000 Use', 'Zoë Ünal', '𝒜lex Script', 'émile Lower', 'Émile Upper', 'Maya Okafor', 'Maya Okafor']
  names.forEach((name, i) => {
    list.push({
      ...base,
      externalId: `edge-name-${i}`,
      name,
      bio: `Grief and anxiety work, trauma informed. Café conversations about attachment (${i}).`,
      modalities: ['cbt', i % 2 === 0 ? 'emdr' : 'ifs'],
      specialties: ['grief', 'anxiety'],
      clientFocus: ['individuals'],
      offices: [at(sf.latitude + i * 0.01, sf.longitude, 'San Francisco', 'CA', '94110')],
      feeMin: [0, 400, 450, 1000, 1250, 5000, null, 405, 399][i] ?? null,
      feeMax: 5000,
      languages: ['en', ['es-MX', 'zh-Hant-TW', 'pt-BR', 'es'][i % 4] ?? 'es'],
      insurance: [['AETNA'], ['aetna', 'Cigna'], ['Blue Cross Blue Shield']][i % 3] ?? [],
    })
  })
  // Two offices on one point, told apart only by their city and ZIP: the index and SQL must show the same one.
  for (let i = 0; i < 6; i += 1) {
    const point = { latitude: sf.latitude - 0.02 * (i + 1), longitude: sf.longitude + 0.013 * i }
    list.push({
      ...base,
      externalId: `edge-stacked-${i}`,
      name: `Stacked Offices ${i}`,
      bio: 'Two suites in one building.',
      modalities: ['act'],
      specialties: ['stress'],
      offices: [at(point.latitude, point.longitude, 'San Francisco', 'CA', '94110'), at(point.latitude, point.longitude, 'Daly City', 'CA', '94015')],
      feeMin: 100 + i,
      feeMax: 200,
    })
  }
  // Both sides of the antimeridian (the Aleutians), and near the pole: the office grid wraps and widens there.
  const far: [number, number][] = [[51.88, 179.95], [51.88, -179.95], [52.2, 179.2], [51.6, -178.8], [89.95, 10], [89.9, -170]]
  far.forEach(([latitude, longitude], i) => {
    list.push({
      ...base,
      externalId: `edge-far-${i}`,
      name: `Far Away ${i}`,
      license: { type: 'lpc', state: 'AK' },
      bio: 'Remote practice.',
      modalities: ['cbt'],
      offices: [at(latitude, longitude, i % 2 === 0 ? 'Adak' : 'ADAK', 'AK', '99546')],
      feeMin: 90,
      feeMax: 90,
    })
  })
  // Offices whose chord from (39.5, -98.5) Node's and the C library's sine and cosine make one unit in the
  // last place apart, on PGlite and on Debian's Postgres alike (found by scanning 20,000 points): with one
  // hit a page, each is a cursor that one engine issues and the other must read the same way.
  const oneUlpApart: [number, number][] = [[39.480351, -98.220264], [39.753412, -98.605159], [39.561368, -98.399658], [39.546412, -98.245644], [39.507143, -98.420103], [39.374849, -98.779467]]
  oneUlpApart.forEach(([latitude, longitude], i) => {
    list.push({ ...base, externalId: `edge-chord-${i}`, name: `Chord Probe ${i}`, bio: 'Prairie practice.', license: { type: 'lpc', state: 'KS' }, offices: [at(latitude, longitude, 'Smith Center', 'KS', '66967')], feeMin: 70, feeMax: 90 })
  })
  // Cities whose capitals are beyond ASCII, telehealth only with licences elsewhere.
  list.push({ ...base, externalId: 'edge-city-1', name: 'Cañon Therapist', bio: 'Mountain town.', offices: [at(38.44, -105.24, 'Cañon City', 'CO', '81212')], feeMin: 80, feeMax: 80 })
  list.push({ ...base, externalId: 'edge-city-2', name: 'Española Therapist', bio: 'High desert.', offices: [at(35.99, -106.08, 'ESPAÑOLA', 'NM', '87532')], feeMin: 85, feeMax: 85 })
  list.push({
    ...base,
    externalId: 'edge-remote-1',
    name: 'Remote Only',
    formats: ['telehealth'],
    license: { type: 'psychologist', state: 'NY', licensedStates: ['CA', 'AK', 'CO'] },
    bio: 'Online grief therapy.',
    specialties: ['grief'],
    feeMin: null,
  })
  return list
}

/**
 * Searches aimed at what the random ones may miss: the hand-made therapists above, text forms whose
 * negation SQL has to notice, fee thresholds, subtags, cities beyond ASCII, the grid's edges.
 */
const TARGETED = [
  '/v1/therapists?near=37.7599,-122.4148&radiusKm=10&sort=distance&limit=3',
  '/v1/therapists?near=37.70,-122.40&radiusKm=5&sort=distance&modality=act&limit=2',
  '/v1/therapists?postalCode=94110&radiusKm=25&includeTelehealth=true&sort=distance&limit=7',
  '/v1/therapists?near=51.88,179.99&radiusKm=150&sort=distance&limit=2',
  '/v1/therapists?near=51.88,-179.99&radiusKm=500&limit=2',
  '/v1/therapists?near=89.9,0&radiusKm=500&sort=distance&limit=1',
  '/v1/therapists?specialty=attachment,communication&postalCode=15636&radiusKm=150&limit=2&facets=none',
  '/v1/therapists?near=39.5,-98.5&radiusKm=40&sort=distance&limit=1&licenseType=lpc&q=prairie',
  '/v1/therapists?q=caf%C3%A9&sort=name&limit=2',
  '/v1/therapists?q=caf%C3%A9&sort=fee&limit=2',
  '/v1/therapists?q=caf%C3%A9&sort=relevance&limit=3',
  '/v1/therapists?sort=fee&maxFee=5000&q=grief&limit=25',
  ...[0, 399, 400, 449, 450, 1000, 1249, 1250, 4999, 5000].map((fee) => `/v1/therapists?maxFee=${fee}&q=caf%C3%A9&limit=20`),
  '/v1/therapists?q=cbt+-+trauma&limit=20',
  '/v1/therapists?q=behavioral+(-conflict)&limit=20',
  '/v1/therapists?q=therapy%7C-grief&limit=20',
  '/v1/therapists?q=anxiety+!-grief&limit=20',
  '/v1/therapists?q=anxiety+-grief&limit=20',
  '/v1/therapists?q=the+and&limit=5',
  '/v1/therapists?q=%22grief+and+loss%22&limit=5',
  '/v1/therapists?q=o%27brien&limit=5',
  ...['es-MX', 'zh-Hant', 'zh', 'pt-BR', 'ES', 'es,fr'].map((tag) => `/v1/therapists?language=${tag}&limit=20`),
  '/v1/therapists?insurance=aetna&q=caf%C3%A9&limit=20',
  '/v1/therapists?insurance=AETNA,cigna&modality=cbt&limit=20',
  '/v1/therapists?city=ca%C3%B1on+city&limit=5',
  '/v1/therapists?city=CA%C3%91ON+CITY&limit=5',
  '/v1/therapists?city=espa%C3%B1ola&state=NM&limit=5',
  '/v1/therapists?city=adak&limit=5',
  '/v1/therapists?state=AK&includeTelehealth=true&sort=name&limit=3',
  '/v1/therapists?state=CA&sort=name&modality=emdr&limit=25',
]

const ndjson = (lines: object[]) => lines.map((line) => JSON.stringify(line)).join('\n')

interface Catalog {
  modalities: string[]
  specialties: string[]
  clientFocus: string[]
  formats: string[]
  licenseTypes: string[]
  states: string[]
  cities: { city: string; state: string }[]
  postalCodes: string[]
  points: { latitude: number; longitude: number }[]
  names: string[]
}

const LANGUAGES = ['en', 'es', 'zh', 'fr', 'vi', 'ko', 'pt', 'ru', 'ar', 'tl', 'hi', 'he', 'ase', 'de', 'es-MX', 'zh-Hant-TW', 'pt-BR', 'en-US', 'ES']
const INSURERS = ['Aetna', 'AETNA', 'blue cross blue shield', 'Cigna', 'UnitedHealthcare', 'Optum', 'Kaiser Permanente', 'Medicare', 'Medicaid', 'humana', 'Anthem', 'Magellan', 'Tricare', 'Nobody Insures']
const WORDS = [
  'anxiety', 'anxious', 'grief', 'loss', 'trauma', 'couples', 'therapy', 'therapist', 'cbt', 'emdr', 'dbt', 'ifs', 'gottman', 'mindfulness', 'attachment',
  'depression', 'mood', 'panic', 'burnout', 'boundaries', 'parenting', 'divorce', 'infidelity', 'adhd', 'ocd', 'lgbtq', 'somatic', 'narrative', 'schema',
  'psychodynamic', 'relationship', 'family', 'teens', 'adults', 'consultation', 'evening', 'trained', 'body', 'parts', 'values', 'identity', 'substance',
  'recovery', 'emotional', 'regulation', 'conflict', 'cognitive', 'behavioral', 'acceptance', 'exposure', 'café', 'remote', 'stacked',
]
const STOP_WORDS = ['the', 'and', 'of', 'a', 'it', 'is', 'you', 'or']
const MAX_FEES = [0, 59, 60, 95, 100, 137, 150, 199, 200, 255, 399, 400, 401, 449, 450, 1000, 1249, 1250, 4999, 5000]
const RADII = [1, 3, 10, 25, 40, 80, 150, 300, 500]

function textQuery(r: Random, names: string[]): string {
  const word = () => (r.chance(0.2) ? r.pick(names) : r.pick(WORDS))
  const prefix = () => {
    const w = r.pick(WORDS)
    return w.slice(0, r.int(Math.min(3, w.length), w.length))
  }
  const a = word()
  const b = word()
  switch (r.int(0, 17)) {
    case 0:
      return a
    case 1:
      return `${a} ${b}`
    case 2:
      return `${a} ${prefix()}`
    case 3:
      return prefix()
    case 4:
      return `${a} -${b}`
    case 5:
      return `-${b} ${a}`
    case 6:
      return `${a} - ${b}`
    case 7:
      return `${a} (-${b})`
    case 8:
      return `${a} or ${b}`
    case 9:
      return `${a} or -${b}`
    case 10:
      return r.some(STOP_WORDS, 1, 3).join(' ')
    case 11:
      return `${r.pick(STOP_WORDS)} ${a}`
    case 12:
      return `"${a} ${b}"`
    case 13:
      return `"${a}"`
    case 14:
      return `${a}'s ${prefix()}`
    case 15:
      return `${a}|-${b}`
    case 16:
      return `${a} !-${b} ${prefix()}`
    default:
      return `${a} ${b} ${prefix()}`
  }
}

/** One random search over the catalog's values, as a URL. */
function randomSearch(r: Random, c: Catalog): string {
  const p = new URLSearchParams()
  const list = (name: string, values: string[], min: number, max: number, probability: number) => {
    if (r.chance(probability)) p.set(name, r.some(values, min, max).join(','))
  }
  list('modality', c.modalities.slice(0, r.chance(0.7) ? 8 : c.modalities.length), 1, 3, 0.45)
  if (p.has('modality') && r.chance(0.4)) p.set('modalityMatch', r.pick(['any', 'all']))
  list('specialty', c.specialties.slice(0, r.chance(0.7) ? 10 : c.specialties.length), 1, 2, 0.3)
  list('clientFocus', c.clientFocus, 1, 2, 0.2)
  list('format', c.formats, 1, 2, 0.2)
  list('licenseType', c.licenseTypes, 1, 2, 0.2)
  list('language', LANGUAGES, 1, 2, 0.15)
  list('insurance', INSURERS, 1, 2, 0.15)
  if (r.chance(0.25)) p.set('maxFee', String(r.chance(0.6) ? r.pick(MAX_FEES) : r.int(0, 500)))
  if (r.chance(0.15)) p.set('slidingScale', String(r.chance(0.5)))
  if (r.chance(0.25)) p.set('acceptingNewClients', String(r.chance(0.6)))

  const place = r.int(0, 9)
  let location = false
  if (place <= 2) {
    location = true
    const point = r.pick(c.points)
    const jitter = () => (r.next() - 0.5) * 0.2
    p.set('near', `${(point.latitude + jitter()).toFixed(4)},${(point.longitude + jitter()).toFixed(4)}`)
  } else if (place === 3) {
    location = true
    p.set('postalCode', r.pick(c.postalCodes))
  }
  if (location && r.chance(0.7)) p.set('radiusKm', String(r.pick(RADII)))
  if (place === 4 || (location && r.chance(0.2))) p.set('state', r.pick(c.states))
  if (place === 5 || (location && r.chance(0.1))) {
    const city = r.pick(c.cities)
    const spelled = r.pick([city.city, city.city.toUpperCase(), city.city.toLowerCase()])
    p.set('city', spelled)
    if (r.chance(0.6)) p.set('state', r.chance(0.85) ? city.state : r.pick(c.states))
  }
  if ((location || p.has('state')) && r.chance(0.35)) p.set('includeTelehealth', 'true')
  if (r.chance(0.4)) p.set('q', textQuery(r, c.names))

  const sorts = ['name', 'fee', ...(p.has('q') ? ['relevance'] : []), ...(location ? ['distance'] : [])]
  if (r.chance(0.6)) p.set('sort', r.pick(sorts))
  p.set('limit', String(r.pick([1, 2, 3, 5, 8, 20, 50])))
  const facets = r.next()
  if (facets < 0.12) p.set('facets', 'none')
  else if (facets < 0.25) p.set('facets', r.some(['modality', 'specialty', 'format', 'clientFocus', 'licenseType'], 1, 3).join(','))
  return `/v1/therapists?${p.toString()}`
}

async function catalog(scratch: ScratchDatabase, app: CuratorClient): Promise<Catalog> {
  const vocab = (await app.inject({ method: 'GET', url: '/v1/vocabularies' })).json<Record<string, { slug: string }[]>>()
  const slugs = (kind: string) => (vocab[kind] ?? []).map((term) => term.slug)
  const db = scratch.db
  const states = await db.query<{ state: string }>(`SELECT DISTINCT state FROM therapist_office ORDER BY state`)
  const cities = await db.query<{ city: string; state: string }>(
    `SELECT city, state FROM therapist_office GROUP BY city, state ORDER BY count(*) DESC, city, state LIMIT 80`,
  )
  const postal = await db.query<{ postal_code: string }>(`SELECT DISTINCT postal_code FROM therapist_office ORDER BY postal_code LIMIT 400`)
  const points = await db.query<{ latitude: number; longitude: number }>(`SELECT latitude, longitude FROM therapist_office ORDER BY latitude, longitude`)
  const names = await db.query<{ word: string }>(`SELECT DISTINCT split_part(name, ' ', n) AS word FROM therapist, generate_series(1, 2) n ORDER BY 1`)
  return {
    modalities: slugs('modalities'),
    specialties: slugs('specialties'),
    clientFocus: slugs('clientFocus'),
    formats: slugs('formats'),
    licenseTypes: slugs('licenseTypes'),
    states: [...states.map((row) => row.state), 'WY', 'PR'],
    cities: [...cities, { city: 'Cañon City', state: 'CO' }, { city: 'Española', state: 'NM' }, { city: 'Adak', state: 'AK' }, { city: 'Nowhere', state: 'CA' }],
    postalCodes: postal.filter((_, i) => i % 4 === 0).map((row) => row.postal_code),
    points: [...points.filter((_, i) => i % 7 === 0), { latitude: 51.88, longitude: 179.99 }, { latitude: 51.88, longitude: -179.99 }, { latitude: 89.9, longitude: 0 }],
    names: names.map((row) => row.word).filter((word) => word !== ''),
  }
}

/** Random writes through the index's instance: patches of every kind of field, removals, creations, an import that restores. */
async function randomWrites(r: Random, app: CuratorClient, scratch: ScratchDatabase, c: Catalog): Promise<void> {
  const ids = (await scratch.db.query<{ id: string }>(`SELECT id FROM therapist WHERE deleted_at IS NULL ORDER BY external_id`)).map((row) => row.id)
  const expectStatus = (res: { statusCode: number; body: string }, status: number) => {
    if (res.statusCode !== status) throw new Error(`write answered ${res.statusCode}: ${res.body}`)
  }
  for (let i = 0; i < 40; i += 1) {
    const id = r.pick(ids)
    const patch: Record<string, unknown> = {}
    if (r.chance(0.3)) patch.name = r.pick(['Aaron Aardvark', 'Zed Zulu', 'Ægir 😀 Astral', 'maya okafor', `${r.pick(c.names)} ${r.pick(c.names)}`])
    if (r.chance(0.3)) patch.feeMin = r.pick([null, 0, 55, 120, 400, 451])
    if (patch.feeMin !== undefined) patch.feeMax = 5000
    if (r.chance(0.3)) patch.modalities = r.some(c.modalities, 1, 4)
    if (r.chance(0.2)) patch.specialties = r.some(c.specialties, 1, 4)
    if (r.chance(0.2)) patch.acceptingNewClients = r.chance(0.5)
    if (r.chance(0.2)) patch.slidingScale = r.chance(0.5)
    if (r.chance(0.2)) patch.languages = r.some(['en', 'es', 'es-MX', 'fr', 'zh-Hant-TW'], 1, 3)
    if (r.chance(0.2)) patch.insurance = r.some(INSURERS, 0, 3)
    if (r.chance(0.2)) patch.bio = `${r.pick(WORDS)} ${r.pick(WORDS)} and ${r.pick(WORDS)}, rewritten.`
    if (r.chance(0.25)) {
      const point = r.pick(c.points)
      const city = r.pick(c.cities)
      patch.formats = ['in_person', 'telehealth']
      patch.offices = [{ street: '9 Moved St', city: city.city, state: city.state, postalCode: '94110', latitude: point.latitude + 0.01, longitude: point.longitude }]
    }
    if (Object.keys(patch).length === 0) patch.acceptingNewClients = r.chance(0.5)
    expectStatus(await app.inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: patch }), 200)
  }
  const removed = r.some(ids, 12, 12)
  for (const id of removed) expectStatus(await app.inject({ method: 'DELETE', url: `/v1/therapists/${id}` }), 204)
  for (let i = 0; i < 10; i += 1) {
    const point = r.pick(c.points)
    const res = await app.inject({
      method: 'POST',
      url: '/v1/therapists',
      payload: {
        name: `${r.pick(c.names)} ${r.pick(['New', 'Added', '😀'])}`,
        license: { type: r.pick(c.licenseTypes), state: r.pick(c.states) },
        formats: ['in_person', 'telehealth'],
        acceptingNewClients: r.chance(0.5),
        modalities: r.some(c.modalities, 1, 3),
        specialties: r.some(c.specialties, 1, 3),
        bio: `${r.pick(WORDS)} and ${r.pick(WORDS)} for new clients.`,
        offices: [{ street: '1 New St', city: 'San Francisco', state: 'CA', postalCode: '94110', latitude: point.latitude, longitude: point.longitude }],
        feeMin: r.pick([null, 80, 150]),
        languages: ['en', 'es-MX'],
      },
    })
    expectStatus(res, 201)
  }
  // An import that brings back removed therapists (by externalId) and updates others.
  const restore = await scratch.db.query<{ external_id: string; profile: string }>(
    `SELECT external_id, id::text AS profile FROM therapist WHERE id = ANY($1::uuid[]) AND external_id IS NOT NULL ORDER BY external_id LIMIT 6`,
    [removed],
  )
  const lines = restore.map((row) => ({
    externalId: row.external_id,
    name: `Restored ${row.external_id}`,
    license: { type: 'lmft', state: 'CA' },
    formats: ['telehealth'],
    acceptingNewClients: true,
    modalities: ['cbt', 'eft'],
    bio: 'Back again, with grief work.',
  }))
  const res = await app.inject({ method: 'POST', url: '/v1/therapists/import', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(lines) })
  expectStatus(res, 200)
}

describe('directory index against SQL alone, on a generated directory', () => {
  let scratch: ScratchDatabase
  let sql: CuratorClient
  let index: CuratorClient
  let c: Catalog

  beforeAll(async () => {
    scratch = await migratedScratch()
    await seedTherapists(scratch.db, { count: THERAPISTS, seed: SEED })
    // No facet cache on the SQL side: the writes below go through the other instance.
    sql = await curatorApp(scratch.db, { DIRECTORY_INDEX: 'off', FACET_CACHE_SECONDS: '0' })
    const imported = await sql.inject({ method: 'POST', url: '/v1/therapists/import', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(edgeTherapists()) })
    expect(imported.statusCode, imported.body).toBe(200)
    expect(imported.json<{ summary: { rejected: number } }>().summary.rejected, imported.body).toBe(0)
    // Office ids are random: make the second office of each stacked pair the one with the smaller id, so a
    // tie between the two is broken differently by office id than by position, every run.
    await scratch.db.query(
      `UPDATE therapist_office o SET id = (CASE WHEN o.position = 1 THEN 'ffffffff' ELSE '00000000' END || substr(o.id::text, 9))::uuid
       FROM therapist t WHERE t.id = o.therapist_id AND t.external_id LIKE 'edge-stacked-%'`,
    )
    // Built after every row is in: the bulk load.
    index = await curatorApp(scratch.db, { DIRECTORY_INDEX: 'memory' })
    const ready = (await index.inject({ method: 'GET', url: '/readyz' })).json<{ directoryIndex: { state: string; therapists: number } }>()
    expect(ready.directoryIndex).toMatchObject({ state: 'ready', therapists: THERAPISTS + edgeTherapists().length })
    c = await catalog(scratch, index)
  })

  afterAll(async () => {
    await index?.raw.close()
    await sql?.raw.close()
    await scratch?.destroy()
  })

  const run = async (r: Random, count: number, label: string) => {
    const before = await searchesByEngine(index.raw)
    const problems: string[] = []
    for (let i = 0; i < count; i += 1) {
      const url = randomSearch(r, c)
      // Every fourth search is followed for several pages, with cursors crossed between the engines.
      const deep = i % 4 === 0
      problems.push(...(await compareEngines(index, sql, url, { pages: deep ? 4 : 1, cross: deep })))
    }
    // Compared against the index, not against SQL twice: only phrase queries may have gone to SQL.
    const after = await searchesByEngine(index.raw)
    expect(after.index - before.index, `${label}: searches the index answered (SQL: ${after.sql - before.sql})`).toBeGreaterThan(4 * (after.sql - before.sql))
    expect(problems, `${label}: ${problems.length} searches answered differently (DIRECTORY_DIFF_SEED=${SEED}):\n${problems.join('\n')}`).toEqual([])
  }

  it.each(TARGETED)('answers %s as SQL does, on every page and with crossed cursors', async (url) => {
    expect(await compareEngines(index, sql, url, { pages: 12, cross: true })).toEqual([])
  })

  it('answers seeded-random searches exactly as SQL does, page after page, with either engine’s cursors', async () => {
    await run(new Random(SEED), QUERIES, 'bulk-loaded index')
  })

  it('still does after creates, patches, removals and an import through the index’s instance', async () => {
    const r = new Random(SEED + 1)
    await randomWrites(r, index, scratch, c)
    await run(r, QUERIES_AFTER_WRITES, 'after live updates')
  })
})
