import { LRUCache } from 'lru-cache'
import type { Database } from '../../../db/database.js'
import type { IndexHit } from '../index/directory-index.js'
import type { ResolvedSearch } from './search-request.js'

/**
 * Formats the hits the directory index chose, as search-sql.ts formats its own (the tests compare the
 * two byte for byte): the card the trigger keeps, where the therapist is, and why they matched.
 *
 * Every search in flight shares one statement: requests that arrive together are formatted by a single
 * query of a fixed text, prepared once per connection. Under load that is one round trip to Postgres for
 * several pages instead of one each; profiled at a million therapists, sending the statements and waking
 * Postgres for them was a third of the service's CPU. What depends on the search travels per row: the
 * office to show (nearest, or the one the page found), the search point, the text query for the rank.
 *
 * A hit that depends on nothing but its row (no search point, no text query: a page of facet filters,
 * the commonest first page) is kept, its card and location, in a cache bounded in bytes
 * (DIRECTORY_CARD_CACHE_MB) and kept coherent by the directory index's change feed: a change drops the
 * therapist's entry before the index answers with it (and so before the writer is answered), and a rebuild
 * drops them all. Measured at 1M, formatting from Postgres halved the throughput of such pages: the rows
 * of a 2 GB table are read from the OS cache, not shared buffers.
 */

const HYDRATE_SQL = `SELECT s.n,
    t.card_json AS card,
    CASE WHEN s.lat IS NULL THEN t.location_json WHEN loc.city IS NULL THEN 'null'
         ELSE '{"city":' || to_json(loc.city)::text || ',"state":' || to_json(loc.state)::text || ',"postalCode":' || to_json(loc.postal_code)::text || '}' END AS location,
    loc.dist_m AS "distanceM",
    round((loc.dist_m / 1000)::numeric, 2)::text AS km,
    CASE WHEN s.q IS NULL THEN NULL ELSE t.bio END AS bio,
    CASE WHEN s.q IS NULL THEN NULL ELSE round(ts_rank(t.search_vector, s.q::tsquery, 1)::float8::numeric, 6)::text END AS rank
  FROM unnest($1::uuid[], $2::int4[], $3::float8[], $4::float8[], $5::text[]) WITH ORDINALITY AS s(id, office_position, lat, lon, q, n)
  JOIN therapist t ON t.id = s.id AND t.deleted_at IS NULL
  LEFT JOIN LATERAL (
    SELECT o.city, o.state, o.postal_code, earth_distance(ll_to_earth(o.latitude, o.longitude), ll_to_earth(s.lat, s.lon)) AS dist_m
    FROM therapist_office o
    WHERE s.lat IS NOT NULL AND o.therapist_id = s.id AND (s.office_position IS NULL OR o.position = s.office_position)
    ORDER BY ll_to_earth(o.latitude, o.longitude) <-> ll_to_earth(s.lat, s.lon), o.position LIMIT 1
  ) loc ON true
  ORDER BY s.n`

/** Rows of one statement at most (a batch of pages beyond it waits for the next). */
const MAX_BATCH_ROWS = 2000

interface HitRow {
  id: string
  officePosition: number | null
  latitude: number | null
  longitude: number | null
  tsquery: string | null
}

/** A hit as Postgres gives it: the JSON parts that come from the row, and what Node finishes it with. */
export interface HydratedHit {
  hit: IndexHit
  card: string
  location: string
  distanceM: number | null
  km: string | null
  bio: string | null
  rank: string | null
}

interface Waiting {
  rows: HitRow[]
  resolve: (rows: ({ card: string; location: string; distanceM: number | null; km: string | null; bio: string | null; rank: string | null } | undefined)[]) => void
  reject: (error: unknown) => void
}

interface Card {
  card: string
  location: string
}

export class HitFormatter {
  private waiting: Waiting[] = []
  private scheduled = false
  private readonly cards: LRUCache<string, Card> | null
  /** Bumped by every change: a statement that started before one does not fill the cache (it may have read the old row). */
  private generation = 0

  /** @param cacheBytes the card cache's bound (0: none) */
  constructor(
    private readonly db: Pick<Database, 'query'>,
    cacheBytes = 0,
  ) {
    this.cards = cacheBytes > 0 ? new LRUCache<string, Card>({ maxSize: cacheBytes, sizeCalculation: (card, id) => 2 * (card.card.length + card.location.length + id.length) + 64 }) : null
  }

  /** Therapists that changed (or all of them): their cards are read again next time. */
  forget(changed: readonly string[] | 'all'): void {
    this.generation += 1
    if (changed === 'all') this.cards?.clear()
    else for (const id of changed) this.cards?.delete(id)
  }

  /**
   * The hits' rows, in order; a hit removed since the index chose it is left out.
   * @param tsquery the search's text query as Postgres printed it (for the rank), if any
   */
  async hydrate(search: ResolvedSearch, hits: readonly IndexHit[], tsquery: string | null): Promise<HydratedHit[]> {
    if (hits.length === 0) return []
    const cards = this.cards
    const cacheable = cards !== null && search.location === undefined && tsquery === null
    if (cacheable) {
      const cached = hits.map((hit) => cards.get(hit.id))
      if (cached.every((card) => card !== undefined)) {
        return hits.map((hit, i) => ({ hit, ...(cached[i] as Card), distanceM: null, km: null, bio: null, rank: null }))
      }
    }
    const generation = this.generation
    const point = search.location
    const rows = hits.map(
      (hit): HitRow => ({
        id: hit.id,
        officePosition: hit.officePosition,
        latitude: point?.latitude ?? null,
        longitude: point?.longitude ?? null,
        tsquery,
      }),
    )
    const found = await new Promise<Parameters<Waiting['resolve']>[0]>((resolve, reject) => {
      this.waiting.push({ rows, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        // The requests whose answers arrive in this turn of the event loop go in one statement.
        setImmediate(() => void this.flush())
      }
    })
    if (cacheable && generation === this.generation) {
      hits.forEach((hit, i) => {
        const row = found[i]
        if (row !== undefined) cards.set(hit.id, { card: row.card, location: row.location })
      })
    }
    return hits.flatMap((hit, i) => {
      const row = found[i]
      return row === undefined ? [] : [{ hit, ...row }]
    })
  }

  private async flush(): Promise<void> {
    this.scheduled = false
    const batch: Waiting[] = []
    let size = 0
    while (this.waiting.length > 0 && (batch.length === 0 || size + (this.waiting[0]?.rows.length ?? 0) <= MAX_BATCH_ROWS)) {
      const next = this.waiting.shift() as Waiting
      batch.push(next)
      size += next.rows.length
    }
    if (this.waiting.length > 0) {
      this.scheduled = true
      setImmediate(() => void this.flush())
    }
    const all = batch.flatMap((waiting) => waiting.rows)
    try {
      const result = await this.db.query<{ n: string | number; card: string; location: string; distanceM: number | null; km: string | null; bio: string | null; rank: string | null }>(
        HYDRATE_SQL,
        [all.map((row) => row.id), all.map((row) => row.officePosition), all.map((row) => row.latitude), all.map((row) => row.longitude), all.map((row) => row.tsquery)],
        { name: 'directory_hits' },
      )
      const byOrdinal = new Map(result.map(({ n, ...row }) => [Number(n), row]))
      let ordinal = 1
      for (const waiting of batch) {
        waiting.resolve(waiting.rows.map(() => byOrdinal.get(ordinal++)))
      }
    } catch (error) {
      for (const waiting of batch) waiting.reject(error)
    }
  }
}

/**
 * A hit's JSON, as search-sql.ts `hitColumns` writes it: the card, where the therapist is, then why it
 * matched; with `q` it stops before the snippet, which the service adds (as for SQL's hits).
 */
export function hitJson(search: ResolvedSearch, row: HydratedHit, telehealthWanted: boolean): string {
  const via =
    search.location === undefined
      ? 'null'
      : !telehealthWanted
        ? '"office"'
        : row.distanceM !== null && row.distanceM <= search.location.radiusKm * 1000
          ? '"office"'
          : '"telehealth"'
  const head =
    `${row.card},"location":${row.location},"match":{"modalities":${JSON.stringify(row.hit.matched.modalities)},` +
    `"specialties":${JSON.stringify(row.hit.matched.specialties)},"distanceKm":${row.km ?? 'null'},"via":${via}`
  return search.q === undefined ? `${head},"snippet":null,"rank":null}}` : head
}
