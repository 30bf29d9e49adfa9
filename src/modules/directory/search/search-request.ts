import { z } from 'zod'
import { BadRequestError } from '../../../lib/errors.js'
import { decodeCursor } from '../../../lib/pagination.js'
import { canonicalLanguageTag, FACETS, type FacetName, type SortName, type TherapistSearchQuery } from '../directory-schemas.js'
import { lookupPostalCode, nearestState } from '../postal-codes.js'
import { unknownTermError, type Vocabulary, type VocabularyKind } from '../vocabulary.js'

/**
 * A search request as the directory answers it: the query string read into vocabulary slugs, a
 * search point, a sort and a cursor (pure; every refusal is a 400 naming the parameter). Both ways
 * of answering it take this: the directory index (index/) and SQL alone (search-sql.ts).
 */

export const DEFAULT_RADIUS_KM = 40
/** sort=distance visits at most this many nearest offices at first, then 8x more while the radius holds more. */
export const DISTANCE_CANDIDATES = 2048
/** The widest bound: four widenings of the default, far beyond any directory's offices in one radius. */
export const MAX_DISTANCE_CANDIDATES = DISTANCE_CANDIDATES * 8 ** 4
/** Sort key of therapists with no fee listed: after every real fee. */
export const NO_FEE = 2147483647

export interface ResolvedSearch {
  q: string | undefined
  modality: string[]
  modalityMatch: 'any' | 'all'
  specialty: string[]
  clientFocus: string[]
  format: string[]
  licenseType: string[]
  languages: string[]
  insurance: string[]
  state: string | undefined
  city: string | undefined
  location: { latitude: number; longitude: number; radiusKm: number; state: string | null } | undefined
  includeTelehealth: boolean
  maxFee: number | undefined
  slidingScale: boolean | undefined
  acceptingNewClients: boolean | undefined
  sort: SortName
  facets: FacetName[]
  /** Every term of each facet with its bit, for counting (not part of the request). */
  facetTerms: Record<FacetName, { slug: string; bit: number }[]>
  limit: number
  cursor: Cursor | undefined
}

export const CursorSchema = z.union([
  z.strictObject({ s: z.literal('name'), n: z.string(), id: z.uuid() }),
  z.strictObject({ s: z.literal('fee'), f: z.number().int().min(0).max(2147483647), id: z.uuid() }),
  z.strictObject({ s: z.literal('relevance'), b: z.union([z.literal(1), z.literal(2)]), n: z.string(), id: z.uuid() }),
  // k: the candidate bound the page was found with, so the next page starts there instead of widening again.
  // r: the therapist's row number, so the continuing engine can compute its chord itself (c is the issuing engine's).
  z.strictObject({
    s: z.literal('distance'),
    b: z.literal(0),
    c: z.number(),
    id: z.uuid(),
    k: z.number().int().min(1).max(MAX_DISTANCE_CANDIDATES).optional(),
    r: z.number().int().min(1).max(2147483647).optional(),
  }),
  z.strictObject({ s: z.literal('distance'), b: z.literal(1), n: z.string(), id: z.uuid() }),
])
export type Cursor = z.infer<typeof CursorSchema>

const VOCAB_PARAMS: { param: 'modality' | 'specialty' | 'clientFocus' | 'format' | 'licenseType'; kind: VocabularyKind }[] = [
  { param: 'modality', kind: 'modality' },
  { param: 'specialty', kind: 'specialty' },
  { param: 'clientFocus', kind: 'client_focus' },
  { param: 'format', kind: 'format' },
  { param: 'licenseType', kind: 'license_type' },
]

const queryError = (code: string, field: string, detail: string) =>
  new BadRequestError(code, detail, { errors: [{ in: 'query', field, message: detail, code }] })

/**
 * Reads a validated query into what the SQL needs: vocabulary values as slugs, the search point,
 * the sort. Everything refused here is a 400 that names the parameter.
 */
export async function resolveSearch(query: TherapistSearchQuery, vocabulary: Vocabulary): Promise<ResolvedSearch> {
  const terms = {} as Record<(typeof VOCAB_PARAMS)[number]['param'], string[]>
  for (const { param, kind } of VOCAB_PARAMS) {
    const { slugs, unknown } = vocabulary.resolveAll(kind, query[param] ?? [])
    if (unknown.length > 0) throw unknownTermError(param, kind, unknown.map(({ value }) => value), vocabulary)
    terms[param] = slugs
  }

  const languages = (query.language ?? []).map((tag) => {
    const canonical = canonicalLanguageTag(tag)
    if (canonical === undefined) throw queryError('invalid_language', 'language', `language ${JSON.stringify(tag)} is not a BCP 47 tag (e.g. en, es, es-MX).`)
    return canonical
  })

  if (query.near !== undefined && query.postalCode !== undefined) {
    throw queryError('conflicting_location', 'near', 'Give either near or postalCode, not both.')
  }
  let location: ResolvedSearch['location']
  const radiusKm = query.radiusKm ?? DEFAULT_RADIUS_KM
  if (query.near !== undefined) {
    const [latitude = NaN, longitude = NaN] = query.near.split(',').map((part) => Number(part.trim()))
    if (!(Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180)) {
      throw queryError('invalid_near', 'near', 'near must be "latitude,longitude" with latitude in [-90, 90] and longitude in [-180, 180].')
    }
    const state = query.state ?? (query.includeTelehealth ? ((await nearestState(latitude, longitude)) ?? null) : null)
    location = { latitude, longitude, radiusKm, state }
  } else if (query.postalCode !== undefined) {
    const place = await lookupPostalCode(query.postalCode)
    if (!place) throw queryError('unknown_postal_code', 'postalCode', `No US ZIP code ${query.postalCode} is known.`)
    location = { latitude: place.latitude, longitude: place.longitude, radiusKm, state: query.state ?? place.state }
  } else if (query.radiusKm !== undefined) {
    throw queryError('radius_without_location', 'radiusKm', 'radiusKm needs near or postalCode.')
  }
  if (query.includeTelehealth && location === undefined && query.state === undefined) {
    throw queryError('telehealth_needs_state', 'includeTelehealth', 'includeTelehealth needs the searcher’s state: give state, postalCode or near.')
  }

  const sort: SortName = query.sort ?? (query.q !== undefined ? 'relevance' : location !== undefined ? 'distance' : 'name')
  if (sort === 'relevance' && query.q === undefined) throw queryError('sort_needs_q', 'sort', 'sort=relevance needs q.')
  if (sort === 'distance' && location === undefined) throw queryError('sort_needs_location', 'sort', 'sort=distance needs near or postalCode.')

  let facets: FacetName[] = [...FACETS]
  if (query.facets !== undefined) {
    if (query.facets.length === 1 && query.facets[0] === 'none') facets = []
    else {
      const unknown = query.facets.filter((name) => !(FACETS as readonly string[]).includes(name))
      if (unknown.length > 0) throw queryError('unknown_facet', 'facets', `Unknown facets ${unknown.join(', ')}; valid: ${FACETS.join(', ')} or none.`)
      facets = FACETS.filter((name) => query.facets?.includes(name))
    }
  }

  let cursor: Cursor | undefined
  if (query.cursor !== undefined) {
    cursor = decodeCursor(query.cursor, CursorSchema)
    // A cursor belongs to the order it was issued for; another sort would skip or repeat hits.
    if (cursor.s !== sort) {
      throw new BadRequestError('invalid_cursor', `This cursor belongs to sort=${cursor.s}; start again without a cursor.`, {
        errors: [{ in: 'query', field: 'cursor', message: 'Cursor issued for another sort', code: 'invalid_cursor' }],
      })
    }
    // The telehealth bucket of a distance sort exists only with includeTelehealth: any other is forged.
    if (cursor.s === 'distance' && cursor.b === 1 && !query.includeTelehealth) {
      throw new BadRequestError('invalid_cursor', 'The cursor is not valid for this list; start again without a cursor.', {
        errors: [{ in: 'query', field: 'cursor', message: 'Invalid cursor', code: 'invalid_cursor' }],
      })
    }
  }

  return {
    q: query.q,
    ...terms,
    modalityMatch: query.modalityMatch,
    languages,
    insurance: (query.insurance ?? []).map((name) => name.toLowerCase()),
    state: query.state,
    city: query.city,
    location,
    includeTelehealth: query.includeTelehealth ?? false,
    maxFee: query.maxFee,
    slidingScale: query.slidingScale,
    acceptingNewClients: query.acceptingNewClients,
    sort,
    facets: cursor === undefined ? facets : [],
    facetTerms: {
      modality: vocabulary.bits('modality'),
      specialty: vocabulary.bits('specialty'),
      format: vocabulary.bits('format'),
      clientFocus: vocabulary.bits('client_focus'),
      licenseType: vocabulary.bits('license_type'),
    },
    limit: query.limit,
    cursor,
  }
}

/** The values the search filters on, per facet. */
export function selectedFacetValues(search: ResolvedSearch): Record<FacetName, string[]> {
  return {
    modality: search.modality,
    specialty: search.specialty,
    format: search.format,
    clientFocus: search.clientFocus,
    licenseType: search.licenseType,
  }
}


/** What a page's last hit must tell to make the next page's cursor (both ways of answering give it). */
export interface CursorFields {
  id: string
  /** sort=name: the name; sort=fee: the fee key. */
  key?: string | number | null
  /** sort=relevance: 1 (name, modalities or specialties match) or 2 (bio only); sort=distance: 0 nearby, 1 telehealth. */
  bucket?: number
  /** sort=distance, nearby: the chord distance to the office (the KNN operator's unit). */
  chord?: number | null
  /** sort=relevance, and sort=distance's telehealth bucket: the name. */
  name?: string | null
  /** sort=distance, nearby: the therapist's row number (therapist.row_no). */
  rowNo?: number | null
}

/**
 * The key of the next-page cursor from the last hit kept, for the sort in use (see CursorSchema).
 * @param candidates sort=distance answered by SQL: the candidate bound this page was found with
 */
export function cursorKey(search: ResolvedSearch, row: CursorFields, candidates?: number): Cursor {
  switch (search.sort) {
    case 'name':
      return { s: 'name', n: String(row.key), id: row.id }
    case 'fee':
      return { s: 'fee', f: Number(row.key), id: row.id }
    case 'relevance':
      return { s: 'relevance', b: row.bucket === 2 ? 2 : 1, n: String(row.name), id: row.id }
    case 'distance':
      return row.bucket === 1
        ? { s: 'distance', b: 1, n: String(row.name), id: row.id }
        : {
            s: 'distance',
            b: 0,
            c: Number(row.chord),
            id: row.id,
            ...(candidates === undefined ? {} : { k: candidates }),
            ...(row.rowNo == null ? {} : { r: Number(row.rowNo) }),
          }
  }
}

/** How the request was read, as the response's `applied` says it. */
export function applied(search: ResolvedSearch) {
  return {
    sort: search.sort,
    modality: search.modality,
    specialty: search.specialty,
    clientFocus: search.clientFocus,
    format: search.format,
    licenseType: search.licenseType,
    location: search.location ?? null,
  }
}
