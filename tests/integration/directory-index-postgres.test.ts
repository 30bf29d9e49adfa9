import { beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/database.js'
import { compareCodePoints, DirectoryIndex, type IndexRow } from '../../src/modules/directory/index/directory-index.js'
import { EARTH_RADIUS_M, greatCircle, OfficeTable, toEarth } from '../../src/modules/directory/index/offices.js'
import type { ResolvedSearch } from '../../src/modules/directory/search/search-request.js'
import { textQueryStatement } from '../../src/modules/directory/search/search-sql.js'
import { parseTsQuery, type TextQuery } from '../../src/modules/directory/search/text-query.js'
import { Vocabulary } from '../../src/modules/directory/vocabulary.js'
import { sharedDatabase } from '../helpers/database.js'
import { Random } from '../helpers/random.js'

/**
 * The directory index re-implements four things Postgres does, and must do them exactly as Postgres
 * does on the backend under test: reading a printed tsquery and evaluating it over a row's lexemes
 * (`@@`), ordering text under the "C" collation, and earthdistance's points and distances. Each is
 * checked here against Postgres itself on many generated inputs.
 */

let db: Database
beforeAll(async () => {
  db = await sharedDatabase()
})

// ---------- text queries ----------

const WORDS = [
  'grief', 'griefs', 'grieving', 'anxiety', 'anxious', 'trauma', 'traumatic', 'couples', 'couple', 'therapy', 'therapist', 'cbt', 'emdr',
  'mindful', 'mindfulness', 'attach', 'attachment', 'depression', 'depressed', 'loss', 'panic', 'family', 'families', 'teens', 'body',
  'the', 'and', 'of', 'a', 'it', 'or', 'not', 'café', 'naïve', '𝒜bc', 'o\'brien', "it's", 'self-esteem', 'x\\y', 'example.com/it\'s',
]

function randomText(r: Random): string {
  const word = () => r.pick(WORDS)
  const parts: string[] = []
  for (let n = r.int(1, 4); n > 0; n -= 1) {
    switch (r.int(0, 9)) {
      case 0:
        parts.push(`-${word()}`)
        break
      case 1:
        parts.push('or')
        break
      case 2:
        parts.push(`"${word()} ${word()}"`)
        break
      case 3:
        parts.push(`"${word()}`)
        break
      case 4:
        parts.push(`${word()}${r.pick(['\\', "'", "''", '"', ':*', '!', '(', ')', '&', '|', '<->'])}${word()}`)
        break
      case 5:
        parts.push(word().slice(0, r.int(1, 5)))
        break
      default:
        parts.push(word())
    }
  }
  return parts.join(r.pick([' ', ' ', ' - ', ',', ' (']))
}

/** A tsquery as Postgres reads it, fully parenthesized (weights and phrases are not printed back: their trees are not kept whole). */
function print(node: TextQuery): string {
  switch (node.op) {
    case 'word':
      return `'${node.lexeme.replaceAll('\\', '\\\\').replaceAll("'", "''")}'${node.prefix ? ':*' : ''}`
    case 'not':
      return `!(${print(node.arg)})`
    case 'and':
    case 'or':
      return `(${print(node.args[0])} ${node.op === 'and' ? '&' : '|'} ${print(node.args[1])})`
    case 'empty':
      return ''
    case 'phrase':
    case 'weighted':
      throw new Error('not printed back')
  }
}

/** Has a phrase operator or a weight restriction outside the quoted lexemes. */
const needsPositions = (text: string) => {
  const outside = text.replace(/'(?:[^']|'')*'/g, "'x'")
  return /<(-|\d+)>/.test(outside) || /'x':\*?[A-D]/.test(outside)
}

describe('parseTsQuery against the tsquery text Postgres prints', () => {
  const texts = async (inputs: string[]) => {
    const out: string[] = []
    for (const q of inputs) {
      const statement = textQueryStatement(q)
      const [row] = await db.query<{ query: string }>(statement.sql, statement.params)
      out.push(row?.query ?? '')
    }
    return out
  }

  it('reads back every query the search builds from generated input, losing nothing', async () => {
    const r = new Random(7)
    const inputs = Array.from({ length: 300 }, () => randomText(r))
    const printed = await texts(inputs)
    let checked = 0
    for (const [i, text] of printed.entries()) {
      const parsed = parseTsQuery(text)
      expect(parsed.supported, `${JSON.stringify(inputs[i])} → ${text}`).toBe(!needsPositions(text))
      if (!parsed.supported) continue
      // Postgres reads our fully parenthesized print of the tree back to the very text it printed.
      const [row] = await db.query<{ again: string }>(`SELECT $1::tsquery::text AS again`, [print(parsed.tree)])
      expect(row?.again, `${JSON.stringify(inputs[i])} → ${text}`).toBe(text)
      checked += 1
    }
    expect(checked).toBeGreaterThan(100)
  })

  it('reads websearch and to_tsquery texts combined, with quotes, backslashes and apostrophes in lexemes', async () => {
    const pairs: [string, string][] = [
      ["o'brien -grief", "o''brien:*"],
      ['"grief and loss" or anxiety', 'anxi:*'],
      ['example.com/it\'s -x', 'a & !b'],
      ['-the', 'the:*'],
      ['a\\b "c\\d"', "'a\\\\b':*"],
      ['x or -y or z', '!(x | y) & z:*'],
      ['', ''],
      ["it's", "'it''s':*"],
    ]
    for (const [websearch, tsquery] of pairs) {
      const [row] = await db.query<{ query: string }>(`SELECT (websearch_to_tsquery('english', $1) || to_tsquery('english', $2))::text AS query`, [websearch, tsquery])
      const text = row?.query ?? ''
      const parsed = parseTsQuery(text)
      if (!parsed.supported) continue
      const [again] = await db.query<{ text: string }>(`SELECT $1::tsquery::text AS text`, [print(parsed.tree)])
      expect(again?.text, `${websearch} / ${tsquery} → ${text}`).toBe(text)
    }
    // Lexemes typed as tsquery literals keep quotes and backslashes: Postgres doubles both when it prints.
    for (const literal of ["'a''b' & 'c\\\\d':*", "'\\\\' | !'''x'''", "'x\\\\\\\\y':*AB & 'z':C"]) {
      const [row] = await db.query<{ text: string }>(`SELECT $1::tsquery::text AS text`, [literal])
      const text = row?.text ?? ''
      const parsed = parseTsQuery(text)
      expect(parsed.supported, text).toBe(!needsPositions(text))
      if (!parsed.supported) continue
      const [again] = await db.query<{ text: string }>(`SELECT $1::tsquery::text AS text`, [print(parsed.tree)])
      expect(again?.text, text).toBe(text)
    }
  })
})

// ---------- evaluating a text query ----------

const NO_FACET_TERMS = { modality: [], specialty: [], format: [], clientFocus: [], licenseType: [] }

function searchFor(q: string, limit: number): ResolvedSearch {
  return {
    q, modality: [], modalityMatch: 'any', specialty: [], clientFocus: [], format: [], licenseType: [], languages: [], insurance: [],
    state: undefined, city: undefined, location: undefined, includeTelehealth: false, maxFee: undefined, slidingScale: undefined,
    acceptingNewClients: undefined, sort: 'name', facets: [], facetTerms: NO_FACET_TERMS, limit, cursor: undefined,
  }
}

const uuidOf = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`

describe('text query evaluation against Postgres @@', () => {
  it('matches exactly the documents to_tsvector(doc) @@ query matches, for generated documents and queries', async () => {
    const r = new Random(11)
    const docs = Array.from({ length: 80 }, () => Array.from({ length: r.int(0, 7) }, () => r.pick(WORDS)).join(' '))
    // Each document's lexemes as Postgres stores them; the index keeps just these.
    const lexemes = await db.query<{ i: number; words: string[] }>(
      `SELECT i::int, tsvector_to_array(to_tsvector('english', doc)) AS words FROM unnest($1::text[]) WITH ORDINALITY AS d(doc, i) ORDER BY i`,
      [docs],
    )
    const rows: IndexRow[] = lexemes.map(({ i, words }) => ({
      rowNo: i, id: uuidOf(i), seq: 1, live: true, name: `doc ${String(i).padStart(3, '0')}`, feeMin: null, accepting: true, sliding: false,
      modalities: [], specialties: [], clientFocus: [], formats: [], licenseType: 'lcsw', officeStates: [], licensedStates: [], languages: [],
      insurance: [], tags: [], words, offices: [],
    }))
    const index = new DirectoryIndex(new Vocabulary([]), rows.length)
    index.load(rows)
    index.finishLoad(
      rows.map((row) => row.rowNo),
      rows.map((row) => row.rowNo),
    )
    let compared = 0
    for (let n = 0; n < 250; n += 1) {
      const q = randomText(r)
      const statement = textQueryStatement(q)
      const [printed] = await db.query<{ query: string }>(statement.sql, statement.params)
      const text = parseTsQuery(printed?.query ?? '')
      if (!text.supported) continue
      const matched = await db.query<{ i: number }>(
        `SELECT i::int FROM unnest($1::text[]) WITH ORDINALITY AS d(doc, i) WHERE to_tsvector('english', doc) @@ $2::tsquery ORDER BY i`,
        [docs, printed?.query ?? ''],
      )
      const answer = index.answer(searchFor(q, rows.length), text)
      const found = answer.hits.map((hit) => Number.parseInt(hit.id.slice(-12), 16)).sort((a, b) => a - b)
      expect(found, `q=${JSON.stringify(q)} → ${printed?.query}`).toEqual(matched.map((row) => row.i))
      compared += 1
    }
    expect(compared).toBeGreaterThan(150)
  })
})

// ---------- ordering names ----------

/** Code units from every band that orders differently in UTF-16 and in code points, plus ASCII and Latin-1. */
const ALPHABET = ['a', 'b', 'A', 'Z', ' ', '-', 'é', 'ß', '\u00ff', '\u0100', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uf8ff', '\ufb01', '\ufffd', '\uffff', '😀', '𝒜', '\u{10000}', '\u{10ffff}', '丁']

function randomName(r: Random): string {
  return Array.from({ length: r.int(0, 6) }, () => r.pick(ALPHABET)).join('')
}

describe('compareCodePoints against Postgres', () => {
  it('orders random strings with characters beyond U+FFFF as ORDER BY … COLLATE "C" does, and as the database orders names', async () => {
    const r = new Random(3)
    const names = Array.from({ length: 600 }, () => randomName(r))
    const mine = [...names].sort(compareCodePoints)
    const [c] = await db.query<{ names: string[] }>(`SELECT array_agg(x ORDER BY x COLLATE "C") AS names FROM unnest($1::text[]) x`, [names])
    expect(mine).toEqual(c?.names)
    // The therapist table's name column: the order the SQL path pages in.
    const [column] = await db.query<{ names: string[] }>(`SELECT array_agg(x ORDER BY x) AS names FROM unnest($1::text[]) x`, [names])
    const [collation] = await db.query<{ collation: string | null }>(
      `SELECT collation_name AS collation FROM information_schema.columns WHERE table_name = 'therapist' AND column_name = 'name'`,
    )
    if (collation?.collation === null || collation?.collation === undefined) expect(mine, 'the database default collation').toEqual(column?.names)
    else expect(collation.collation).toBe('C')
  })
})

// ---------- earthdistance ----------

function randomPoint(r: Random): { latitude: number; longitude: number } {
  switch (r.int(0, 4)) {
    case 0: // the poles and the antimeridian
      return { latitude: r.pick([-1, 1]) * (90 - r.next() * 0.5), longitude: (r.next() - 0.5) * 360 }
    case 1:
      return { latitude: (r.next() - 0.5) * 120, longitude: r.pick([-1, 1]) * (180 - r.next() * 0.5) }
    default:
      return { latitude: Math.round(((r.next() - 0.5) * 180) * 1e6) / 1e6, longitude: Math.round(((r.next() - 0.5) * 360) * 1e6) / 1e6 }
  }
}

describe('offices: earthdistance as the index computes it', () => {
  it('places points and measures great-circle distances as ll_to_earth and earth_distance do, within a micrometre', async () => {
    const r = new Random(5)
    const pairs = Array.from({ length: 400 }, () => {
      const a = randomPoint(r)
      // Half the pairs near each other (a search radius), half anywhere.
      const b = r.chance(0.5) ? { latitude: Math.max(-90, Math.min(90, a.latitude + (r.next() - 0.5))), longitude: a.longitude + (r.next() - 0.5) } : randomPoint(r)
      return [a, b] as const
    })
    const rows = await db.query<{ x: number; y: number; z: number; chord: number; distance: number }>(
      `SELECT cube_ll_coord(ll_to_earth(a_lat, a_lon), 1) AS x, cube_ll_coord(ll_to_earth(a_lat, a_lon), 2) AS y, cube_ll_coord(ll_to_earth(a_lat, a_lon), 3) AS z,
              ll_to_earth(a_lat, a_lon) <-> ll_to_earth(b_lat, b_lon) AS chord, earth_distance(ll_to_earth(a_lat, a_lon), ll_to_earth(b_lat, b_lon)) AS distance
       FROM unnest($1::float8[], $2::float8[], $3::float8[], $4::float8[]) WITH ORDINALITY AS p(a_lat, a_lon, b_lat, b_lon, i) ORDER BY i`,
      [pairs.map(([a]) => a.latitude), pairs.map(([a]) => a.longitude), pairs.map(([, b]) => b.latitude), pairs.map(([, b]) => b.longitude)],
    )
    const [earth] = await db.query<{ radius: number }>(`SELECT earth() AS radius`)
    expect(EARTH_RADIUS_M).toBe(earth?.radius)
    rows.forEach((row, i) => {
      const [a, b] = pairs[i] as (typeof pairs)[number]
      const p = toEarth(a.latitude, a.longitude)
      const q = toEarth(b.latitude, b.longitude)
      const where = `${JSON.stringify(a)} → ${JSON.stringify(b)}`
      expect(Math.abs(p.x - row.x), where).toBeLessThanOrEqual(1e-6)
      expect(Math.abs(p.y - row.y), where).toBeLessThanOrEqual(1e-6)
      expect(Math.abs(p.z - row.z), where).toBeLessThanOrEqual(1e-6)
      const [dx, dy, dz] = [p.x - q.x, p.y - q.y, p.z - q.z]
      const chord = Math.sqrt(dx * dx + dy * dy + dz * dz)
      expect(Math.abs(greatCircle(chord) - row.distance), where).toBeLessThanOrEqual(1e-6)
      expect(Math.abs(greatCircle(row.chord) - row.distance), where).toBeLessThanOrEqual(1e-6)
    })
  })

  it('finds within a radius exactly the offices earth_box and earth_distance find, across the antimeridian and near the poles', async () => {
    const r = new Random(6)
    const offices = Array.from({ length: 1500 }, (_, i) => {
      // Clusters, so radii hold many offices; some at the edges of the grid.
      const centre = [[37.75, -122.42], [51.88, 179.9], [51.88, -179.9], [89.7, 0], [-89.8, 45], [0, 0], [40.7, -74]][i % 7] as [number, number]
      const latitude = Math.max(-90, Math.min(90, centre[0] + (r.next() - 0.5) * 4))
      let longitude = centre[1] + (r.next() - 0.5) * 8
      if (longitude > 180) longitude -= 360
      if (longitude < -180) longitude += 360
      return { latitude, longitude }
    })
    const table = new OfficeTable()
    offices.forEach((office, slot) => table.replace(slot, [{ position: 1, state: 'CA', city: 'x', ...office }]))
    for (let n = 0; n < 40; n += 1) {
      const centre = r.chance(0.7) ? r.pick(offices) : randomPoint(r)
      const radiusM = r.pick([500, 5_000, 40_000, 150_000, 500_000, 3_000_000])
      // Both ways the index finds offices in a radius: bits of the slots (facets), and nearest first (pages).
      const bits = new Uint32Array(Math.ceil(offices.length / 32))
      table.markWithin(centre.latitude, centre.longitude, radiusM, -1, -1, bits, 0)
      const found = offices.flatMap((_, slot) => ((bits[slot >>> 5] ?? 0) & (1 << (slot & 31)) ? [slot] : []))
      const nearest: number[] = []
      table.nearestFirst(centre.latitude, centre.longitude, radiusM, -1, -1, (slot) => nearest.push(slot), () => false)
      const rows = await db.query<{ slot: number }>(
        `SELECT (i - 1)::int AS slot FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS o(lat, lon, i)
         WHERE earth_box(ll_to_earth($3, $4), $5) @> ll_to_earth(lat, lon) AND earth_distance(ll_to_earth(lat, lon), ll_to_earth($3, $4)) <= $5
         ORDER BY 1`,
        [offices.map((o) => o.latitude), offices.map((o) => o.longitude), centre.latitude, centre.longitude, radiusM],
      )
      expect(found, `${radiusM} m around ${JSON.stringify(centre)}`).toEqual(rows.map((row) => row.slot))
      expect(nearest.sort((a, b) => a - b), `nearest first, ${radiusM} m around ${JSON.stringify(centre)}`).toEqual(rows.map((row) => row.slot))
    }
  })

  // Node's sine and cosine are not the C library's: a chord may differ in its last bit (sort=distance cursors
  // therefore carry the therapist, whose chord the continuing engine computes itself).
  it('computes the chord Postgres computes, to the last bit or two', async () => {
    const r = new Random(8)
    const pairs = Array.from({ length: 300 }, () => [randomPoint(r), randomPoint(r)] as const)
    const rows = await db.query<{ chord: number }>(
      `SELECT ll_to_earth(a_lat, a_lon) <-> ll_to_earth(b_lat, b_lon) AS chord
       FROM unnest($1::float8[], $2::float8[], $3::float8[], $4::float8[]) WITH ORDINALITY AS p(a_lat, a_lon, b_lat, b_lon, i) ORDER BY i`,
      [pairs.map(([a]) => a.latitude), pairs.map(([a]) => a.longitude), pairs.map(([, b]) => b.latitude), pairs.map(([, b]) => b.longitude)],
    )
    const differ = rows.flatMap((row, i) => {
      const [a, b] = pairs[i] as (typeof pairs)[number]
      const p = toEarth(a.latitude, a.longitude)
      const q = toEarth(b.latitude, b.longitude)
      // As OfficeTable computes it.
      const [dx, dy, dz] = [p.x - q.x, p.y - q.y, p.z - q.z]
      const chord = Math.sqrt(dx * dx + dy * dy + dz * dz)
      return Math.abs(chord - row.chord) <= 1e-12 * Math.max(1, row.chord) ? [] : [`${a.latitude},${a.longitude} → ${b.latitude},${b.longitude}: index ${chord}, Postgres ${row.chord}`]
    })
    expect(differ, `${differ.length} of ${pairs.length} chords differ`).toEqual([])
  })
})
