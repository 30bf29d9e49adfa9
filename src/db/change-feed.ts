import type { FastifyBaseLogger } from 'fastify'
import type { Database, Listener } from './database.js'

/**
 * What one instance hears of the changes every instance (and every operator's SQL) makes, so that its
 * caches agree with the database within a notification's round trip (milliseconds; the bound the
 * project promises is 1 s). Postgres LISTEN/NOTIFY on the primary carries it: the triggers of the
 * cache_changes migration notify `cache_changes` when an app's row changes, an account is deleted or a
 * vocabulary changes, and the directory's triggers notify `therapist_changes` for every therapist write.
 * Both backends have it (PGlite in process), and it needs nothing beside the database.
 *
 * A notification sent while an instance is not listening is lost, so a lost connection is answered
 * with `reset` (drop everything that may be stale) when it is noticed and again once listening works
 * again: whatever changed in between is read afresh.
 */
export type ChangeEvent =
  | { kind: 'client'; clientId: string }
  | { kind: 'user'; userId: string }
  | { kind: 'vocabulary' }
  | { kind: 'therapists' }
  | { kind: 'reset' }

export type ChangeHandler = (event: ChangeEvent) => void

/** Subscribes a handler to the feed; what modules are given, so they need not know the feed. */
export type ChangeSubscriber = (handler: ChangeHandler) => void

export const CACHE_CHANNEL = 'cache_changes'
const THERAPIST_CHANNEL = 'therapist_changes'
/** The directory index's writers' markers on its channel (index-sync.ts): not changes. */
const BARRIER_PREFIX = 'barrier:'

/** One `cache_changes` payload as an event; unknown payloads (a newer version's) are ignored. */
export function parseCachePayload(payload: string): ChangeEvent | undefined {
  if (payload === 'vocabulary') return { kind: 'vocabulary' }
  if (payload.startsWith('client:')) return { kind: 'client', clientId: payload.slice('client:'.length) }
  if (payload.startsWith('user:')) return { kind: 'user', userId: payload.slice('user:'.length) }
  return undefined
}

export interface ChangeFeedStatus {
  state: 'starting' | 'up' | 'down' | 'closed'
  /** Times the feed was lost and caches were reset. */
  resets: number
}

export class ChangeFeed {
  private readonly handlers: ChangeHandler[] = []
  private listeners: Listener[] = []
  private state: ChangeFeedStatus['state'] = 'starting'
  private closed = false
  private resets = 0
  private retryTimer: NodeJS.Timeout | null = null
  /** One reconnection at a time, however many of the connections report the loss. */
  private reconnecting = false

  constructor(
    private readonly options: {
      db: Pick<Database, 'listen'>
      log: FastifyBaseLogger
      /** Wait before listening again after a loss (tests shorten it). */
      retryMs?: number
    },
  ) {}

  readonly subscribe: ChangeSubscriber = (handler) => {
    this.handlers.push(handler)
  }

  status(): ChangeFeedStatus {
    return { state: this.state, resets: this.resets }
  }

  /** Starts listening in the background. */
  start(): void {
    void this.listen()
  }

  async close(): Promise<void> {
    this.closed = true
    this.state = 'closed'
    if (this.retryTimer) clearTimeout(this.retryTimer)
    const listeners = this.listeners
    this.listeners = []
    await Promise.all(listeners.map((listener) => listener.close().catch(() => undefined)))
  }

  private emit(event: ChangeEvent): void {
    for (const handler of this.handlers) {
      try {
        handler(event)
      } catch (error) {
        this.options.log.error({ err: error, event: event.kind }, 'change feed: a cache failed to take a change')
      }
    }
  }

  private async listen(): Promise<void> {
    if (this.closed) return
    const lost = (error: unknown) => this.lost(error)
    try {
      this.listeners.push(
        await this.options.db.listen(
          CACHE_CHANNEL,
          (payload) => {
            const event = parseCachePayload(payload)
            if (event) this.emit(event)
          },
          lost,
        ),
      )
      this.listeners.push(
        await this.options.db.listen(
          THERAPIST_CHANNEL,
          (payload) => {
            if (!payload.startsWith(BARRIER_PREFIX)) this.emit({ kind: 'therapists' })
          },
          lost,
        ),
      )
    } catch (error) {
      this.lost(error)
      return
    }
    if (this.closed) {
      await this.close()
      return
    }
    const recovered = this.state === 'down'
    this.state = 'up'
    if (recovered) {
      this.options.log.info('change feed: listening again; caches were reset')
      this.emit({ kind: 'reset' })
    }
  }

  /** A listening connection failed: changes may be missed from now until listening works again. */
  private lost(error: unknown): void {
    if (this.closed || this.reconnecting) return
    this.reconnecting = true
    if (this.state !== 'down') this.options.log.warn({ err: error }, 'change feed: lost; caches are reset, and again once it is back')
    this.state = 'down'
    this.resets += 1
    this.emit({ kind: 'reset' })
    const listeners = this.listeners
    this.listeners = []
    void Promise.all(listeners.map((listener) => listener.close().catch(() => undefined)))
    this.retryTimer = setTimeout(() => {
      this.reconnecting = false
      void this.listen()
    }, this.options.retryMs ?? 1000)
  }
}
