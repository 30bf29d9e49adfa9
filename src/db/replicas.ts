import type { FastifyBaseLogger } from 'fastify'
import { isConnectionError } from '../lib/db-errors.js'
import type { Database } from './database.js'

/**
 * Directory reads on Postgres streaming replicas (DATABASE_READ_URLS), chosen per request among the
 * healthy ones, with the primary as the fallback. One `pg` pool and Prisma client per target (the same
 * `openPostgres` as the primary's): the directory reads through raw SQL on the pool, which Prisma's
 * read-replica extension would not route, and the extension has neither health checks nor a lag bound.
 *
 * Every `checkMs` the router reads the primary's WAL position and each replica's replayed position. A
 * replica's lag is how long ago the router first saw a primary position the replica has not replayed
 * yet (0 once it has replayed everything seen): that is the age of the newest data it may lack, whether
 * it is slow, cut off from the primary, or the primary is idle (then nothing is missing, and the lag is
 * 0, where `now() - pg_last_xact_replay_timestamp()` would grow forever). Resolution: `checkMs`.
 * A replica is used while it answers and lags at most `maxLagMs`; a read that fails on a replica for a
 * connection reason marks it down and runs again on the primary, so a replica going away fails no request
 * (a statement a standby cancels for a replay conflict also runs again on the primary, without marking it down).
 */

export type ReplicaState = 'starting' | 'healthy' | 'lagging' | 'down'

export interface ReplicaStatus {
  /** `replica-1`, … in the order of DATABASE_READ_URLS (no host: this is shown on /readyz). */
  name: string
  state: ReplicaState
  /** Age of the newest primary data it lacks, ms; null until known. */
  lagMs: number | null
  checkedAt: string | null
}

export type ReadTarget = Pick<Database, 'query' | 'prisma'>

/** A read's outcome on a target, for the per-target metrics. */
export type ReadOutcome = 'ok' | 'error' | 'fallback'

interface Replica {
  name: string
  db: ReadTarget & Pick<Database, 'close'>
  state: ReplicaState
  lagMs: number | null
  checkedAt: number | null
  /** The reader handed out for this replica (counted, falling back to the primary). */
  reader: ReadTarget
}

/** `16/B374D848` → a number that orders like the WAL position. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/')
  if (high === undefined || low === undefined) throw new Error(`not a WAL position: ${text}`)
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`)
}

/** Primary positions as the router saw them, oldest first. */
export interface PositionSample {
  lsn: bigint
  at: number
}

/**
 * How far behind a replica at `position` is: the age at `now` of the oldest primary position seen that it has
 * not replayed (0 when it has replayed them all). Pure, so the rule is tested without a replica.
 */
export function replicaLagMs(samples: readonly PositionSample[], position: bigint, now: number): number {
  const missing = samples.find((sample) => sample.lsn > position)
  return missing === undefined ? 0 : Math.max(0, now - missing.at)
}

const REPLICA_POSITION_SQL = `SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS lsn`
const PRIMARY_POSITION_SQL = `SELECT pg_current_wal_lsn()::text AS lsn`

export interface ReadRouterOptions {
  primary: ReadTarget
  replicas: { name: string; db: ReadTarget & Pick<Database, 'close'> }[]
  maxLagMs: number
  checkMs: number
  log: FastifyBaseLogger
  onRead?: (target: string, outcome: ReadOutcome) => void
  /** Milliseconds, monotonic (tests pass their own). */
  now?: () => number
}

export class ReadRouter {
  private readonly replicas: Replica[]
  private readonly primary: ReadTarget
  private samples: PositionSample[] = []
  private next = 0
  private timer: NodeJS.Timeout | null = null
  private checking: Promise<void> | null = null
  private closed = false
  private readonly now: () => number

  constructor(private readonly options: ReadRouterOptions) {
    this.now = options.now ?? (() => performance.now())
    const onRead = options.onRead ?? (() => undefined)
    this.primary = counted('primary', options.primary, onRead)
    this.replicas = options.replicas.map((replica) => {
      const entry: Replica = { ...replica, state: 'starting', lagMs: null, checkedAt: null, reader: options.primary }
      entry.reader = withFallback(entry, this.primary, onRead, (error) => this.markDown(entry, error))
      return entry
    })
  }

  /** How long after a commit a read may still show the old rows: caches filled from replicas are cleared again after it. */
  get staleReadMs(): number {
    return this.replicas.length === 0 ? 0 : this.options.maxLagMs + this.options.checkMs
  }

  /** Where one request's directory reads go: the next healthy replica in turn, else the primary. */
  reader(): ReadTarget {
    const count = this.replicas.length
    for (let i = 0; i < count; i += 1) {
      const replica = this.replicas[(this.next + i) % count] as Replica
      if (replica.state === 'healthy') {
        this.next = (this.next + i + 1) % count
        return replica.reader
      }
    }
    return this.primary
  }

  status(): ReplicaStatus[] {
    return this.replicas.map((replica) => ({
      name: replica.name,
      state: replica.state,
      lagMs: replica.lagMs === null ? null : Math.round(replica.lagMs),
      checkedAt: replica.checkedAt === null ? null : new Date(Date.now() - (this.now() - replica.checkedAt)).toISOString(),
    }))
  }

  /** Checks now and then every `checkMs`, in the background. */
  start(): void {
    if (this.replicas.length === 0 || this.timer !== null) return
    const tick = () => {
      void this.check().finally(() => {
        if (!this.closed) this.timer = setTimeout(tick, this.options.checkMs).unref()
      })
    }
    tick()
  }

  /** One round of checks: the primary's position, then each replica's. */
  async check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => {
      this.checking = null
    })
    return this.checking
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    await this.checking?.catch(() => undefined)
    await Promise.all(this.replicas.map((replica) => replica.db.close().catch(() => undefined)))
  }

  private async checkOnce(): Promise<void> {
    const deadline = Math.max(1000, this.options.checkMs * 2)
    try {
      const [row] = await withDeadline(this.options.primary.query<{ lsn: string }>(PRIMARY_POSITION_SQL), deadline)
      if (row) this.samples.push({ lsn: parseLsn(row.lsn), at: this.now() })
    } catch (error) {
      // Without the primary's position the replicas' lag is judged against what was seen before.
      this.options.log.debug({ err: error }, 'read replicas: could not read the primary position')
    }
    await Promise.all(
      this.replicas.map(async (replica) => {
        try {
          const [row] = await withDeadline(replica.db.query<{ lsn: string }>(REPLICA_POSITION_SQL), deadline)
          const lag = replicaLagMs(this.samples, parseLsn(row?.lsn ?? '0/0'), this.now())
          this.setState(replica, lag <= this.options.maxLagMs ? 'healthy' : 'lagging', lag)
        } catch (error) {
          this.markDown(replica, error)
        }
        replica.checkedAt = this.now()
      }),
    )
    // Keep what the slowest replica may still need, and not forever.
    const oldestNeeded = this.now() - Math.max(60_000, this.options.maxLagMs * 4)
    while (this.samples.length > 1 && (this.samples[0] as PositionSample).at < oldestNeeded) this.samples.shift()
  }

  private markDown(replica: Replica, error: unknown): void {
    this.setState(replica, 'down', replica.lagMs, error)
  }

  private setState(replica: Replica, state: ReplicaState, lagMs: number | null, error?: unknown): void {
    if (replica.state !== state) {
      const message = `read replicas: ${replica.name} is ${state}${state === 'healthy' ? '; directory reads go to it' : '; directory reads go elsewhere'}`
      if (state === 'healthy') this.options.log.info({ replica: replica.name, lagMs }, message)
      else this.options.log.warn({ replica: replica.name, lagMs, err: error }, message)
    }
    replica.state = state
    replica.lagMs = lagMs
  }
}

function counted(name: string, target: ReadTarget, onRead: (target: string, outcome: ReadOutcome) => void): ReadTarget {
  return {
    prisma: target.prisma,
    async query<Row>(sql: string, params?: unknown[], options?: { name?: string }): Promise<Row[]> {
      try {
        const rows = await target.query<Row>(sql, params, options)
        onRead(name, 'ok')
        return rows
      } catch (error) {
        onRead(name, 'error')
        throw error
      }
    },
  }
}

/** A replica's reader: a read it cannot answer for a connection reason runs again on the primary (reads are safe to repeat). */
function withFallback(replica: Replica, primary: ReadTarget, onRead: (target: string, outcome: ReadOutcome) => void, down: (error: unknown) => void): ReadTarget {
  return {
    prisma: replica.db.prisma,
    async query<Row>(sql: string, params?: unknown[], options?: { name?: string }): Promise<Row[]> {
      try {
        const rows = await replica.db.query<Row>(sql, params, options)
        onRead(replica.name, 'ok')
        return rows
      } catch (error) {
        if (!isConnectionError(error) && !isRecoveryConflict(error)) {
          onRead(replica.name, 'error')
          throw error
        }
        onRead(replica.name, 'fallback')
        if (isConnectionError(error)) down(error)
        return primary.query<Row>(sql, params, options)
      }
    },
  }
}

/** A standby cancelled the statement because replay needed what it read (SQLSTATE 40001 on a replica): the primary has no such conflict. */
const isRecoveryConflict = (error: unknown): boolean => typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '40001'

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  work.catch(() => undefined)
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}
