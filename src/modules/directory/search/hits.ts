import { LRUCache } from 'lru-cache'
import type { Database } from '../../../db/database.js'
import type { IndexHit } from '../index/directory-index.js'
import { greatCircle, toEarth } from '../index/offices.js'
import type { ResolvedSearch } from './search-request.js'

/**
 * Formats the hits the directory index chose, as search-sql.ts formats its own (the tests compare the
 * two): the card the trigger keeps, where the therapist is, and why they matched.
 *
 * From Postgres, every search in flight shares one statement: requests that arrive together are formatted
 * by a single query of a fixed text, prepared once per connection. Under load that is one round trip for
 * several pages instead of one each; profiled at a million therapists, sending the statements and waking
 * Postgres for them was a third of the service's CPU. What depends on the search travels per row: the
 * office to show (nearest, or the one the page found), the search point, the text query for the rank.
 *
 * What a hit shows depends on its row (the card, the first office, the offices' addresses and points, the
 * bio) and, for a text query, on the rank Postgres computes from the stored vector, a function of the row and
 * the query. Both are kept in a cache bounded in bytes (DIRECTORY_CARD_CACHE_MB; a card keeps the ranks of its
 * last few queries) and kept coherent by the directory index's change feed: a change drops the therapist's
 * entry before the index answers with it (so before the writer is answered), a rebuild drops them all, and a
 * statement that raced a change does not fill the cache. A page whose hits are all there is made in Node. The distance is then measured in
 * Node, as the index measures it, and written as Postgres writes `round((d / 1000)::numeric, 2)`: its
 * float8 → numeric keeps 15 significant digits (checked on 400,000 random pairs: Node's and the C library's
 * distances differ in the last bit for a fifth of them, their kilometres to two decimals never).
 * Measured at 1M, formatting from Postgres halved the throughput of a page: the rows of a 2 GB table are
 * read from the OS cache, not shared buffers.
 */

const HYDRATE_SQL = `SELECT s.n,
    t.card_json AS card,
    t.location_json AS "firstOffice",
    CASE WHEN s.lat IS NULL THEN t.location_json WHEN loc.city IS NULL THEN 'null'
         ELSE '{"city":' || to_json(loc.city)::text || ',"state":' || to_json(loc.state)::text || ',"postalCode":' || to_json(loc.postal_code)::text || '}' END AS location,
    loc.dist_m AS "distanceM",
    round((loc.dist_m / 1000)::numeric, 2)::text AS km,
    t.bio,
    CASE WHEN s.q IS NULL THEN NULL ELSE round(ts_rank(t.search_vector, s.q::tsquery, 1)::float8::numeric, 6)::text END AS rank,
    (SELECT json_agg(json_build_array(o.position, to_json(o.city)::text, to_json(o.state)::text, to_json(o.postal_code)::text, o.latitude, o.longitude))
       FROM therapist_office o WHERE o.therapist_id = s.id) AS offices
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

/** What a hit shows, as Postgres gives it or as the cache makes it. */
interface Formatted {
  card: string
  location: string
  distanceM: number | null
  km: string | null
  bio: string | null
  rank: string | null
}

/** A hit as formatted: the JSON parts that come from the row, and what Node finishes it with. */
export interface HydratedHit extends Formatted {
  hit: IndexHit
}

interface StatementRow extends Formatted {
  n: string | number
  firstOffice: string
  bio: string
  /** [position, city, state, postalCode (each as JSON text), latitude, longitude]. */
  offices: [number, string, string, string, number, number][] | null
}

interface Waiting {
  rows: HitRow[]
  resolve: (rows: (StatementRow | undefined)[]) => void
  reject: (error: unknown) => void
}

/** A therapist's row as hits need it: the card, the first office's location, every office, the bio, and ranks by text query. */
interface Card {
  card: string
  firstOffice: string
  offices: { position: number; location: string; x: number; y: number; z: number }[]
  bio: string
  /** Printed tsquery → rank as JSON text, the last RANKS_KEPT queries. */
  ranks: Map<string, string>
}

/** Ranks a card keeps (of the last text queries it was a hit of). */
const RANKS_KEPT = 8

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
    this.cards =
      cacheBytes > 0
        ? new LRUCache<string, Card>({
            maxSize: cacheBytes,
            // UTF-16 text, the offices' points, the ranks (their queries are shared with the parsed-query cache).
            sizeCalculation: (card, id) =>
              2 * (card.card.length + card.firstOffice.length + card.bio.length + id.length) +
              card.offices.reduce((sum, office) => sum + 2 * office.location.length + 64, 96) +
              RANKS_KEPT * 48,
          })
        : null
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
    if (cards !== null) {
      const cached = hits.map((hit) => cards.get(hit.id))
      if (cached.every((card) => card !== undefined && (tsquery === null || card.ranks.has(tsquery)))) {
        return hits.map((hit, i) => ({ hit, ...fromCard(search, hit, cached[i] as Card, tsquery) }))
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
    const found = await new Promise<(StatementRow | undefined)[]>((resolve, reject) => {
      this.waiting.push({ rows, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        // The requests whose answers arrive in this turn of the event loop go in one statement.
        setImmediate(() => void this.flush())
      }
    })
    if (cards !== null && generation === this.generation) {
      hits.forEach((hit, i) => {
        const row = found[i]
        if (row === undefined) return
        const card = cards.get(hit.id) ?? toCard(row)
        if (tsquery !== null && row.rank !== null) {
          card.ranks.delete(tsquery)
          card.ranks.set(tsquery, row.rank)
          if (card.ranks.size > RANKS_KEPT) card.ranks.delete(card.ranks.keys().next().value as string)
        }
        cards.set(hit.id, card)
      })
    }
    return hits.flatMap((hit, i) => {
      const row = found[i]
      return row === undefined ? [] : [{ hit, card: row.card, location: row.location, distanceM: row.distanceM, km: row.km, bio: tsquery === null ? null : row.bio, rank: row.rank }]
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
      const result = await this.db.query<StatementRow>(
        HYDRATE_SQL,
        [all.map((row) => row.id), all.map((row) => row.officePosition), all.map((row) => row.latitude), all.map((row) => row.longitude), all.map((row) => row.tsquery)],
        { name: 'directory_hits' },
      )
      const byOrdinal = new Map(result.map((row) => [Number(row.n), row]))
      let ordinal = 1
      for (const waiting of batch) waiting.resolve(waiting.rows.map(() => byOrdinal.get(ordinal++)))
    } catch (error) {
      for (const waiting of batch) waiting.reject(error)
    }
  }
}

function toCard(row: StatementRow): Card {
  return {
    card: row.card,
    firstOffice: row.firstOffice,
    bio: row.bio,
    ranks: new Map(),
    offices: (row.offices ?? []).map(([position, city, state, postalCode, latitude, longitude]) => ({
      position,
      location: `{"city":${city},"state":${state},"postalCode":${postalCode}}`,
      ...toEarth(latitude, longitude),
    })),
  }
}

/** A hit from its cached row, as HYDRATE_SQL would format it for the search. */
function fromCard(search: ResolvedSearch, hit: IndexHit, card: Card, tsquery: string | null): Formatted {
  const text = tsquery === null ? { bio: null, rank: null } : { bio: card.bio, rank: card.ranks.get(tsquery) ?? null }
  const point = search.location
  if (point === undefined) return { card: card.card, location: card.firstOffice, distanceM: null, km: null, ...text }
  const at = toEarth(point.latitude, point.longitude)
  // The office the page found, or the nearest one (ties by position), as the statement's lateral picks it.
  let best: { location: string; chord: number } | null = null
  for (const office of [...card.offices].sort((a, b) => a.position - b.position)) {
    if (hit.officePosition !== null && office.position !== hit.officePosition) continue
    const chord = Math.sqrt((office.x - at.x) ** 2 + (office.y - at.y) ** 2 + (office.z - at.z) ** 2)
    if (best === null || chord < best.chord) best = { location: office.location, chord }
  }
  if (best === null) return { card: card.card, location: 'null', distanceM: null, km: null, ...text }
  const distanceM = greatCircle(best.chord)
  return { card: card.card, location: best.location, distanceM, km: twoDecimals((distanceM / 1000).toPrecision(15)), ...text }
}

/**
 * A decimal text rounded to two places, half away from zero, as Postgres's numeric `round(x, 2)` writes
 * it (trailing zeros kept: "12.30").
 */
export function twoDecimals(decimal: string): string {
  // An exponent is a magnitude far below a hundredth (toPrecision writes one below 1e-6), or far above any distance.
  if (decimal.includes('e')) return Math.abs(Number(decimal)) < 1 ? '0.00' : Number(decimal).toFixed(2)
  const negative = decimal.startsWith('-')
  const [whole = '0', fraction = ''] = (negative ? decimal.slice(1) : decimal).split('.')
  const digits = `${fraction}000`
  let hundredths = BigInt(whole + digits.slice(0, 2))
  if (Number(digits[2]) >= 5) hundredths += 1n
  const text = hundredths.toString().padStart(3, '0')
  return `${negative && hundredths !== 0n ? '-' : ''}${text.slice(0, -2)}.${text.slice(-2)}`
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
