import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Database, Listener } from '../../../db/database.js'
import type { Vocabulary } from '../vocabulary.js'
import { DirectoryIndex, type IndexRow } from './directory-index.js'

/**
 * Builds the directory index from Postgres and keeps it current with the writes of every instance.
 *
 * Every write of a therapist row ends, in the same statement, with a NOTIFY on `therapist_changes`
 * carrying the changed row numbers (a statement trigger, see the directory_index migration); Postgres
 * delivers it to every listening instance once the write commits. An instance re-reads those rows and
 * applies them; a write waits for its own notification before it is answered (`barrier`), so a curator
 * reads their write at once, and other instances see it within a notification's round trip.
 *
 * Building: listen first, then read every row (in chunks), then apply what was notified meanwhile,
 * so nothing written during the build is missed. A lost listening connection may have missed
 * notifications: the index is then set aside (searches use SQL alone, which is always current) and
 * rebuilt once listening works again.
 */

export const CHANGES_CHANNEL = 'therapist_changes'
/** Rows per build query: big enough to amortize the round trip, small enough to keep memory flat. */
const BUILD_CHUNK_ROWS = 20_000
/** Notifications are gathered this long before one re-read, so a burst of imports costs a few queries. */
const NOTIFY_GATHER_MS = 5
/** A notification that is not row numbers but a writer's marker (see `barrier`). */
const BARRIER_PREFIX = 'barrier:'

/** building: no index yet; ready: current; stale: behind the database (searches use SQL); off: too big (DIRECTORY_INDEX_MAX_MB) or turned off. */
export type IndexState = 'building' | 'ready' | 'stale' | 'off'

export interface IndexStatus {
  state: IndexState
  therapists: number
  bytes: number
  /** How long the last build took. */
  builtInMs: number | null
  /** Why the index is off. */
  reason?: string
}

/** One therapist as the index reads it: a JSON array, so a million rows parse fast (JSON.parse, not per-column parsing). */
const ROW_JSON = `json_build_array(t.row_no, t.id, t.change_seq, t.deleted_at IS NULL, t.name, t.fee_min, t.accepting_new_clients, t.sliding_scale,
  t.modalities, t.specialties, t.client_focus, t.formats, t.license_type, t.office_states, t.licensed_states, t.languages,
  ARRAY(SELECT lower(i) FROM unnest(t.insurance) i),
  tsvector_to_array(ts_filter(t.search_vector, '{a,b}')), tsvector_to_array(t.search_vector),
  (SELECT json_agg(json_build_array(o.position, o.state, lower(o.city), o.latitude, o.longitude) ORDER BY o.position)
     FROM therapist_office o WHERE o.therapist_id = t.id))::text AS row`

/** The same without the lexemes, which a build reads grouped by lexeme instead (see `postingsSql`). */
const ROW_JSON_WITHOUT_TEXT = ROW_JSON.replace("tsvector_to_array(ts_filter(t.search_vector, '{a,b}')), tsvector_to_array(t.search_vector)", 'NULL, NULL')

/**
 * A chunk's lexemes with the rows that have each (int4 row numbers, big-endian, as one bytea): Postgres
 * groups about 70 lexemes a row into a few hundred lists, so Node looks up a few hundred lexemes per
 * chunk instead of 70 per row (3x faster build at a million rows).
 */
const postingsSql = (vector: 'search_vector' | 'tags_vector') =>
  `SELECT lexeme, string_agg(int4send(t.row_no), ''::bytea) AS rows FROM therapist t, unnest(tsvector_to_array(t.${vector})) lexeme
   WHERE t.row_no >= $1 AND t.row_no < $2 AND t.deleted_at IS NULL GROUP BY lexeme`

/** A bytea of big-endian int4 row numbers (from `postingsSql`). */
function rowNumbers(bytes: Uint8Array): Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const numbers = new Int32Array(bytes.byteLength / 4)
  for (let i = 0; i < numbers.length; i += 1) numbers[i] = view.getInt32(i * 4)
  return numbers
}

type RowJson = [
  number, string, number, boolean, string, number | null, boolean, boolean,
  string[] | null, string[] | null, string[] | null, string[] | null, string, string[] | null, string[] | null, string[] | null,
  string[] | null, string[] | null, string[] | null,
  [number, string, string, number, number][] | null,
]

function parseRow(text: string): IndexRow {
  const r = JSON.parse(text) as RowJson
  return {
    rowNo: r[0],
    id: r[1],
    seq: r[2],
    live: r[3],
    name: r[4],
    feeMin: r[5],
    accepting: r[6],
    sliding: r[7],
    modalities: r[8] ?? [],
    specialties: r[9] ?? [],
    clientFocus: r[10] ?? [],
    formats: r[11] ?? [],
    licenseType: r[12],
    officeStates: r[13] ?? [],
    licensedStates: r[14] ?? [],
    languages: r[15] ?? [],
    insurance: r[16] ?? [],
    tags: r[17] ?? [],
    words: r[18] ?? [],
    offices: (r[19] ?? []).map(([position, state, city, latitude, longitude]) => ({ position, state, city, latitude, longitude })),
  }
}

const rowNoList = (text: string | null | undefined): number[] => (text ? text.split(',').map(Number) : [])

export interface IndexSyncOptions {
  db: Pick<Database, 'query' | 'listen'>
  vocabulary: () => Promise<Vocabulary>
  log: FastifyBaseLogger
  /** The index is not built (or dropped) past this size. */
  maxBytes: number
  /** Reconnection backoff for the listener (tests shorten it). */
  retryMs?: number
  /** Told the ids of therapists that changed once the index holds them, or 'all' when it was rebuilt (caches of rows follow it). */
  onChange?: (changed: readonly string[] | 'all') => void
}

export class IndexSync {
  private current: DirectoryIndex | null = null
  /** The last build's outcome. */
  private built: 'building' | 'built' | 'off' = 'building'
  /** Listening for changes; while not, notifications may be missed. */
  private feedUp = false
  /** A re-read of notified rows failed: they wait in `pending`. */
  private behind = false
  private building = false
  /** The feed was closed on purpose (the index turned off): a lost connection is not a reason to rebuild. */
  private closedFeed = false
  /** A lost feed is being re-established (one attempt at a time). */
  private reconnecting = false
  private closed = false
  private reason: string | undefined
  private builtInMs: number | null = null
  private listener: Listener | null = null
  /** Row numbers notified and not yet applied (during a build, kept for after it). */
  private readonly pending = new Set<number>()
  private flushing: Promise<void> | null = null
  private gatherTimer: NodeJS.Timeout | null = null
  private retryTimer: NodeJS.Timeout | null = null
  private readonly settledWaiters: (() => void)[] = []
  private readonly barriers = new Map<string, () => void>()
  /** Markers a writer stopped waiting for: until they come back the index may lack those writes. */
  private readonly lateBarriers = new Set<string>()

  constructor(private readonly options: IndexSyncOptions) {}

  private get state(): IndexState {
    if (this.built === 'off') return 'off'
    if (this.current === null) return 'building'
    return this.feedUp && !this.behind && !this.building && this.lateBarriers.size === 0 ? 'ready' : 'stale'
  }

  /** The index when it is current, else null (search then uses SQL alone, which always is). */
  get index(): DirectoryIndex | null {
    return this.state === 'ready' ? this.current : null
  }

  status(): IndexStatus {
    const index = this.current
    return {
      state: this.state,
      therapists: index?.size ?? 0,
      bytes: index?.bytes ?? 0,
      builtInMs: this.builtInMs,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
    }
  }

  /** Resolves once the index is ready or off, or after `ms`. */
  async settled(ms: number): Promise<void> {
    if (this.state === 'ready' || this.state === 'off') return
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>((resolve) => {
      this.settledWaiters.push(resolve)
      timer = setTimeout(resolve, ms)
    })
    clearTimeout(timer)
  }

  /** Starts listening and the first build, in the background. */
  start(): void {
    void this.listenThenBuild()
  }

  /** The vocabularies changed (facet bits may have moved): read the directory again; searches use SQL meanwhile. */
  rebuild(): void {
    if (this.closed || this.built === 'off' || this.current === null) return
    void this.build()
  }

  async close(): Promise<void> {
    this.closed = true
    for (const timer of [this.gatherTimer, this.retryTimer]) if (timer) clearTimeout(timer)
    await this.listener?.close().catch(() => undefined)
    this.listener = null
    await this.flushing?.catch(() => undefined)
    for (const resolve of this.settledWaiters.splice(0)) resolve()
  }

  /**
   * Waits until the index holds every change committed before this call, whichever instance made it:
   * sends a marker through the change feed and, when it comes back, applies what was notified before
   * it (Postgres delivers notifications in commit order). A write awaits this before it is answered,
   * so the writer's next search sees it. Gives up after `timeoutMs` (the index is then behind, and
   * searches use SQL until it catches up).
   */
  async barrier(timeoutMs = 2000): Promise<void> {
    if (!this.feedUp || this.current === null || this.closed) return
    const token = `${BARRIER_PREFIX}${randomUUID()}`
    let timer: NodeJS.Timeout | undefined
    const arrived = new Promise<boolean>((resolve) => {
      this.barriers.set(token, () => resolve(true))
      timer = setTimeout(() => resolve(false), timeoutMs)
    })
    try {
      await this.options.db.query(`SELECT pg_notify($1, $2)`, [CHANGES_CHANNEL, token])
      if (await arrived) return
      // The writer goes on, but the index may lack its write: searches use SQL until the marker comes back.
      this.lateBarriers.add(token)
      this.changed()
    } finally {
      clearTimeout(timer)
      this.barriers.delete(token)
    }
  }

  private async listenThenBuild(): Promise<void> {
    if (this.closed) return
    try {
      this.listener = await this.options.db.listen(CHANGES_CHANNEL, (payload) => this.notified(payload), (error) => this.lost(error))
      this.feedUp = true
    } catch (error) {
      this.lost(error)
      return
    }
    await this.build()
  }

  private notified(payload: string): void {
    if (this.built === 'off') return
    if (payload.startsWith(BARRIER_PREFIX)) {
      // Everything committed before the marker was notified before it: apply that, then let the writer go.
      const resolve = this.barriers.get(payload)
      const late = this.lateBarriers.delete(payload)
      if (resolve || late) {
        void this.flush().finally(() => {
          resolve?.()
          this.changed()
        })
      }
      return
    }
    for (const rowNo of rowNoList(payload)) this.pending.add(rowNo)
    if (this.building || this.gatherTimer !== null) return
    this.gatherTimer = setTimeout(() => {
      this.gatherTimer = null
      void this.flush()
    }, NOTIFY_GATHER_MS)
  }

  /** Re-reads and applies the notified rows; one re-read at a time. */
  private async flush(): Promise<void> {
    while (this.flushing) await this.flushing
    const index = this.current
    if (index === null || this.building || this.closed || this.pending.size === 0) return
    const rowNos = [...this.pending]
    this.pending.clear()
    this.flushing = (async () => {
      try {
        const rows = await this.options.db.query<{ row: string }>(`SELECT ${ROW_JSON} FROM therapist t WHERE t.row_no = ANY($1::int4[])`, [rowNos])
        const parsed = rows.map((row) => parseRow(row.row))
        const found = new Set(parsed.map((row) => row.rowNo))
        const gone = rowNos.filter((rowNo) => !found.has(rowNo))
        const goneIds = gone.flatMap((rowNo) => index.idOfRow(rowNo) ?? [])
        index.apply(parsed, gone)
        this.options.onChange?.([...parsed.map((row) => row.id), ...goneIds])
        this.behind = false
        if (index.bytes > this.options.maxBytes) await this.turnOff(index.size)
      } catch (error) {
        for (const rowNo of rowNos) this.pending.add(rowNo)
        if (!this.behind) this.options.log.warn({ err: error }, 'directory index: re-reading changed therapists failed; searching with SQL until it works')
        this.behind = true
        this.retryTimer = setTimeout(() => void this.flush(), this.options.retryMs ?? 1000)
      } finally {
        this.flushing = null
        this.changed()
      }
    })()
    await this.flushing
    // Notified while this re-read ran.
    if (this.pending.size > 0 && !this.behind && this.gatherTimer === null) await this.flush()
  }

  /** The listening connection is gone: changes may be missed, so the index is set aside and rebuilt once listening again. */
  private lost(error: unknown): void {
    if (this.closed || this.closedFeed || this.reconnecting) return
    this.reconnecting = true
    if (this.feedUp || this.current === null) {
      this.options.log.warn({ err: error }, 'directory index: the change feed is down; searching with SQL until the index is rebuilt')
    }
    this.feedUp = false
    this.listener = null
    this.changed()
    this.retryTimer = setTimeout(() => {
      this.reconnecting = false
      void this.listenThenBuild()
    }, this.options.retryMs ?? 1000)
  }

  private async build(): Promise<void> {
    if (this.building || this.closed) return
    this.building = true
    this.changed()
    const started = performance.now()
    const { log, maxBytes } = this.options
    try {
      const index = await this.read(maxBytes)
      if (index === null) return
      this.current = index
      this.options.onChange?.('all')
      this.building = false
      // What was written while it was read, notified since listening began.
      await this.flush()
      this.builtInMs = Math.round(performance.now() - started)
      this.built = 'built'
      this.reason = undefined
      log.info({ therapists: index.size, megabytes: Math.round(index.bytes / 2 ** 20), ms: this.builtInMs }, 'directory index ready')
    } catch (error) {
      if (this.closed) return
      log.warn({ err: error }, 'directory index: reading the directory failed; searching with SQL and trying again')
      this.retryTimer = setTimeout(() => void this.build(), this.options.retryMs ?? 1000)
    } finally {
      this.building = false
      this.changed()
    }
  }

  /** Reads the whole directory into a new index, or null when it would pass `maxBytes` (then the index is off). */
  private async read(maxBytes: number): Promise<DirectoryIndex | null> {
    const { db } = this.options
    const vocabulary = await this.options.vocabulary()
    const [range] = await db.query<{ low: number | null; high: number | null; live: number }>(
      `SELECT min(row_no) AS low, max(row_no) AS high, count(*) FILTER (WHERE deleted_at IS NULL)::int AS live FROM therapist`,
    )
    const index = new DirectoryIndex(vocabulary, Math.ceil((range?.live ?? 0) * 1.1) + 1024)
    // Slots in ZIP code order (ZIP codes run through the country region by region, across state lines),
    // so a search in one area touches few words of each bitset.
    const [order] = await db.query<{ rows: string | null }>(
      `SELECT string_agg(row_no::text, ',' ORDER BY primary_postal_code, row_no) AS rows FROM therapist WHERE deleted_at IS NULL`,
    )
    index.assignSlots(rowNoList(order?.rows))
    const low = range?.low ?? 0
    const high = range?.high ?? -1
    // One chunk of row numbers: its rows (without text), and its lexemes grouped by Postgres, three
    // statements at once; the next chunk is read while this one is loaded.
    const read = (from: number) => {
      const range = [from, from + BUILD_CHUNK_ROWS]
      return Promise.all([
        db.query<{ row: string }>(`SELECT ${ROW_JSON_WITHOUT_TEXT} FROM therapist t WHERE t.row_no >= $1 AND t.row_no < $2 AND t.deleted_at IS NULL`, range),
        db.query<{ lexeme: string; rows: Uint8Array }>(postingsSql('search_vector'), range),
        db.query<{ lexeme: string; rows: Uint8Array }>(postingsSql('tags_vector'), range),
      ])
    }
    let next = low <= high ? read(low) : null
    for (let from = low; next !== null; from += BUILD_CHUNK_ROWS) {
      const [rows, words, tags] = await next
      next = from + BUILD_CHUNK_ROWS <= high ? read(from + BUILD_CHUNK_ROWS) : null
      index.load(rows.map((row) => parseRow(row.row)))
      for (const { lexeme, rows: postings } of words) index.loadPostings('words', lexeme, rowNumbers(postings))
      for (const { lexeme, rows: postings } of tags) index.loadPostings('tags', lexeme, rowNumbers(postings))
      if (index.bytes > maxBytes) {
        await next?.catch(() => undefined)
        await this.turnOff(index.size)
        return null
      }
    }
    const [orders] = await db.query<{ by_name: string | null; by_fee: string | null }>(
      `SELECT string_agg(row_no::text, ',' ORDER BY name, id) AS by_name,
              string_agg(row_no::text, ',' ORDER BY COALESCE(fee_min, 2147483647), id) AS by_fee
       FROM therapist WHERE deleted_at IS NULL`,
    )
    index.finishLoad(rowNoList(orders?.by_name), rowNoList(orders?.by_fee))
    return index
  }

  /** Past DIRECTORY_INDEX_MAX_MB (building, or grown by changes): drop it and stop listening; searches use SQL alone. */
  private async turnOff(therapists: number): Promise<void> {
    this.reason = `it would pass DIRECTORY_INDEX_MAX_MB (${Math.round(this.options.maxBytes / 2 ** 20)} MB) at ${therapists} therapists`
    this.options.log.warn(`directory index: off, ${this.reason}; searches use SQL alone`)
    this.current = null
    this.built = 'off'
    this.pending.clear()
    this.feedUp = false
    const listener = this.listener
    this.listener = null
    this.closedFeed = true
    await listener?.close().catch(() => undefined)
    this.changed()
  }

  /** Wakes whoever waits for the index to settle. */
  private changed(): void {
    if (this.state === 'ready' || this.state === 'off') for (const resolve of this.settledWaiters.splice(0)) resolve()
  }
}
