/**
 * The search shapes the benchmark measures (from the directory issue), as API query strings.
 * `npm run bench` runs each through HTTP and, as the floor, the very same SQL through `pg`;
 * `scripts/bench/explain.ts` prints their plans.
 */
export interface SearchShape {
  name: string
  /** Query string of GET /v1/therapists. */
  query: string
}

/** `facets=none`: facet counts are measured as their own shape, since they cost more than the page. */
export const SEARCH_SHAPES: SearchShape[] = [
  { name: 'modality only', query: 'modality=cbt&facets=none' },
  { name: 'modality+state+accepting+fee', query: 'modality=cbt&state=CA&acceptingNewClients=true&maxFee=150&facets=none' },
  { name: 'q full text + modality', query: 'q=grief&modality=cbt&facets=none' },
  { name: 'modality + near 25 km', query: 'modality=attachment-based&near=37.7749,-122.4194&radiusKm=25&sort=distance&facets=none' },
]

/** Facets on: the same filters as the second shape, with all five disjunctive facet counts. */
export const FACET_SHAPE: SearchShape = { name: 'state+accepting+fee, all facets', query: 'modality=cbt&state=CA&acceptingNewClients=true&maxFee=150' }
