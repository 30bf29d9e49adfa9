/**
 * The directory shapes `npm run bench` measures: issue 10's targets, as GET /v1/therapists query
 * strings, each with the anchors' peer that does comparable work, and the ways a request can be
 * varied without changing its work (so that no request is answered from a per-request cache).
 * `scripts/bench/explain.ts` prints their SQL plans.
 */

/** The anchors' peer (`anchor-server.mjs`) whose work a shape is compared with. */
export type PeerKind = 'core' | 'fts' | 'geo'

export interface SearchShape {
  /** Short name: the table's row and `--only`. */
  name: string
  /** Query string of GET /v1/therapists without `facets` (so: all facets, the API's default). */
  query: string
  peer: PeerKind
  /**
   * Other values of a parameter that do exactly the work of the one in `query`: another spelling of
   * the same modality, another case, another notation of the same number, a fee limit between two fee
   * steps (generated fees are multiples of 5, so maxFee 150–154 match the same therapists). Each
   * measured request draws one value per parameter. The bench checks every value against the
   * canonical query before measuring and drops any that answers differently.
   */
  alternatives: Record<string, string[]>
}

const CBT = ['cbt', 'CBT', 'Cognitive Behavioral Therapy', 'cognitive behavioural therapy', 'Cognitive-Behavioral Therapy']

export const SEARCH_SHAPES: SearchShape[] = [
  { name: 'modality', query: 'modality=cbt', peer: 'core', alternatives: { modality: CBT } },
  {
    name: 'modality-state-fee',
    query: 'modality=cbt&state=CA&acceptingNewClients=true&maxFee=150',
    peer: 'core',
    alternatives: { modality: CBT, state: ['CA', 'ca'], maxFee: ['150', '151', '152', '153', '154'] },
  },
  { name: 'text-modality', query: 'q=grief&modality=cbt', peer: 'fts', alternatives: { q: ['grief', 'Grief', 'GRIEF'], modality: CBT } },
  { name: 'text-country', query: 'q=anxiety', peer: 'fts', alternatives: { q: ['anxiety', 'Anxiety', 'ANXIETY'] } },
  {
    name: 'near-40km',
    query: 'modality=cbt&acceptingNewClients=true&near=34.0522,-118.2437&radiusKm=40&sort=distance',
    peer: 'geo',
    alternatives: { modality: CBT, near: ['34.0522,-118.2437', '34.05220,-118.24370', '34.0522, -118.2437'], radiusKm: ['40', '40.0', '40.00'] },
  },
  {
    name: 'postal-25km',
    query: 'postalCode=10001&radiusKm=25',
    peer: 'geo',
    alternatives: { postalCode: ['10001', '10001-0001'], radiusKm: ['25', '25.0', '25.00'] },
  },
]

/** Profile by id: random live therapists, compared with the core peer. */
export const PROFILE_SHAPE = { name: 'profile', peer: 'core' as PeerKind }

export const SHAPE_NAMES = [...SEARCH_SHAPES.map((shape) => shape.name), PROFILE_SHAPE.name]

/** Page sizes drawn per request: the peers' 20 on average, never the same page twice in a row. */
export const LIMITS = [18, 19, 20, 21, 22]

/** How requests are kept cold, for the report. */
export const COLDNESS =
  'every Therapath request draws a limit from 18–22 and, per parameter, one of its equivalent spellings ' +
  '(modality name/alias/case, q case, number notation, maxFee 150–154 between fee steps, ZIP vs ZIP+4), ' +
  'so consecutive requests differ; the service runs with FACET_CACHE_SECONDS=0'

/**
 * A query string of `shape`: the canonical one (`random` omitted, limit 20), or one drawn at random
 * from its alternatives. `facets: false` adds `facets=none`.
 */
export function shapeQuery(shape: Pick<SearchShape, 'query' | 'alternatives'>, facets: boolean, random?: () => number): string {
  const draw = <T>(items: readonly T[], fallback: T): T => (random ? (items[Math.floor(random() * items.length)] ?? fallback) : fallback)
  const params = new URLSearchParams(shape.query)
  const parts: string[] = []
  for (const [key, value] of params) parts.push(`${key}=${encodeURIComponent(draw(shape.alternatives[key] ?? [], value))}`)
  parts.push(`limit=${draw(LIMITS, 20)}`)
  if (!facets) parts.push('facets=none')
  return parts.join('&')
}
