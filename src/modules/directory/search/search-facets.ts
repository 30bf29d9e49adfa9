import { LRUCache } from 'lru-cache'
import type { FacetName } from '../directory-schemas.js'
import type { ResolvedSearch } from './search-request.js'

/** One facet term's count, as either way of answering computes it. */
export interface FacetRow {
  facet: FacetName
  value: string
  count: number
}

/**
 * Facet rows → `{ facet: [{value, count}] }`, biggest first, then by value. The rows hold every
 * term of each requested facet (facetSql counts them all), so zeros, selected values among them, are kept.
 */
export function facetCounts(search: ResolvedSearch, rows: FacetRow[]): Record<string, { value: string; count: number }[]> {
  const result: Record<string, { value: string; count: number }[]> = {}
  for (const facet of search.facets) {
    result[facet] = rows
      .filter((row) => row.facet === facet)
      .map(({ value, count }) => ({ value, count: Number(count) }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
  }
  return result
}

/**
 * SQL alone: facet counts by filter set, for FACET_CACHE_SECONDS. Counting in SQL reads every match,
 * and integrators ask for the same filters again as users page, sort or come back; concurrent identical
 * requests share one count (lru-cache's fetch). Every write through the service clears it once it has
 * committed. The directory index counts without it: its counts are never older than its data.
 */
export class FacetCountCache {
  private readonly cache: LRUCache<string, FacetRow[], () => Promise<FacetRow[]>> | null

  constructor(ttlMs: number, maxEntries = 1000) {
    this.cache =
      ttlMs <= 0
        ? null
        : new LRUCache({ max: maxEntries, ttl: ttlMs, fetchMethod: (_key, _stale, { context: count }) => count() })
  }

  /** Bumped by every clear: a count in flight when it happened was aborted by it. */
  private clears = 0

  async get(search: ResolvedSearch, count: () => Promise<FacetRow[]>): Promise<FacetRow[]> {
    if (this.cache === null) return count()
    const clears = this.clears
    try {
      const rows = await this.cache.fetch(facetKey(search), { context: count })
      return rows ?? count()
    } catch (error) {
      // A change (here or, through the change feed, on any instance) cleared the cache while this count ran:
      // lru-cache rejects the aborted fetch; count again, uncached, rather than fail the search.
      if (this.clears !== clears) return count()
      throw error
    }
  }

  clear(): void {
    this.clears += 1
    this.cache?.clear()
  }
}

/** What facet counts depend on: the filters, not the sort, page or limit. */
function facetKey(search: ResolvedSearch): string {
  const { sort: _sort, limit: _limit, cursor: _cursor, facetTerms: _terms, ...filters } = search
  return JSON.stringify(filters)
}
