import { createHash, createHmac, randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../../db/database.js'
import type { Prisma } from '../../generated/prisma/client.js'
import { canonicalJson } from '../../lib/canonical-json.js'
import { ConflictError, UnprocessableError } from '../../lib/errors.js'

/** How long a key is remembered: retries come within minutes; a day covers long outages. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000
/** How long a claim whose request never finished blocks its key (IDEMPOTENCY_LEASE_SECONDS' default). */
export const DEFAULT_LEASE_MS = 30_000
/** How long a retry waits for the first request with its key to finish before answering 409. */
const WAIT_FOR_FIRST_MS = 5000
const POLL_MS = 25
/** How often an instance removes expired keys (of every user), off the request path. */
const SWEEP_EVERY_MS = 10 * 60 * 1000

export interface StoredResponse {
  status: number
  body: unknown
  location: string | null
}

/**
 * The key as the table holds it: a hash of what the client sent, never the key itself, so the key
 * can serve as the secret of `requestHash`.
 */
export const storedKey = (key: string): string => createHash('sha256').update(`therapath idempotency key\n${key}`).digest('hex')

/**
 * HMAC-SHA256 of method, path and canonical body, keyed with the client's Idempotency-Key. The table
 * keeps only `storedKey` of that key, so someone holding the table cannot test guesses of a body (a
 * PHQ-9 has only about 10^6 possible answers) against the hash. The labels keep the two derivations
 * apart even for keys longer than a SHA-256 block, which HMAC hashes first.
 */
export const requestHash = (key: string, method: string, path: string, body: unknown): string =>
  createHmac('sha256', `therapath idempotency request\n${key}`).update(`${method} ${path}\n${canonicalJson(body)}`).digest('hex')

/** Whose key it is: a user's (their token) or an app's (an app token, e.g. a curator creating therapists). */
export type IdempotencyOwner = { kind: 'user'; id: string } | { kind: 'client'; id: string }

interface Deps {
  db: Pick<Database, 'prisma' | 'query'>
  log: FastifyBaseLogger
  /**
   * A claim is a lease: while its request runs, `expires_at` is this far after the claim. A request that
   * never ends (its instance died, the database went away) blocks the key only this long; then a retry
   * takes the key over. A completed key lasts IDEMPOTENCY_TTL_MS from its claim.
   */
  leaseMs?: number
  /** What the service takes as now; tests move it. */
  now?: () => Date
}

/** The part of a transaction the completion needs: the write's own transaction. */
export type CompletionTx = Pick<Prisma.TransactionClient, '$executeRaw'>

/** The claim was taken over (its lease ran out) or freed while this request ran: its write must not commit. */
export class ClaimLostError extends ConflictError {
  constructor() {
    super('This request ran longer than its Idempotency-Key lease and a retry took the key over; nothing was written. Retry with the same key.', 'idempotency_claim_lost')
  }
}

export function createIdempotencyService({ db, log, leaseMs = DEFAULT_LEASE_MS, now: clock = () => new Date() }: Deps) {
  const { prisma } = db
  let nextSweepAt = 0
  let sweeping: Promise<void> | undefined

  /** At most once per SWEEP_EVERY_MS, and never awaited by a request: keys of users who never come back go too. */
  function sweepExpired(now: Date): void {
    if (sweeping || now.getTime() < nextSweepAt) return
    nextSweepAt = now.getTime() + SWEEP_EVERY_MS
    sweeping = prisma.idempotencyKey
      .deleteMany({ where: { expiresAt: { lt: now } } })
      .then(
        () => undefined,
        (error: unknown) => log.warn({ err: error }, 'could not remove expired idempotency keys; the next sweep retries'),
      )
      .finally(() => {
        sweeping = undefined
      })
  }

  /**
   * Inserts the claim; an expired row with the same key is replaced in the same statement (as if it
   * were absent), a live one is left alone. Returns the claim's id, or undefined when the key is live.
   */
  async function claim(owner: IdempotencyOwner, key: string, hash: string, now: Date): Promise<string | undefined> {
    // One of two fixed statements: the owner's column is never taken from input.
    const [column, cast] = owner.kind === 'user' ? ['user_id', '::uuid'] : ['client_id', '']
    const rows = await db.query<{ id: string }>(
      `insert into idempotency_keys (id, ${column}, key, request_hash, created_at, expires_at)
       values ($1::uuid, $2${cast}, $3, $4, $5::timestamptz, $6::timestamptz)
       on conflict (${column}, key) do update
          set id = excluded.id, request_hash = excluded.request_hash, response_status = null, response_body = null,
              response_location = null, created_at = excluded.created_at, expires_at = excluded.expires_at
        where idempotency_keys.expires_at < excluded.created_at
       returning id`,
      [randomUUID(), owner.id, key, hash, now.toISOString(), new Date(now.getTime() + leaseMs).toISOString()],
    )
    return rows[0]?.id
  }

  return {
    /**
     * Claims `key` for this request. Returns `{ claimed: id }` when this request is the first
     * (it must then `complete` or `release`), or the stored response of the first one.
     * @param key - the Idempotency-Key as the client sent it (stored only as `storedKey`)
     * @param hash - `requestHash` of the request
     * @throws UnprocessableError when the key was used for a different request
     * @throws ConflictError when the first request is still running after a short wait
     */
    async begin(owner: IdempotencyOwner, key: string, hash: string): Promise<{ claimed: string } | { replay: StoredResponse }> {
      const now = clock()
      sweepExpired(now)
      const stored = storedKey(key)
      const claimed = await claim(owner, stored, hash, now)
      if (claimed) return { claimed }

      const deadline = Date.now() + WAIT_FOR_FIRST_MS
      for (;;) {
        const existing = await prisma.idempotencyKey.findUnique({
          where: owner.kind === 'user' ? { userId_key: { userId: owner.id, key: stored } } : { clientId_key: { clientId: owner.id, key: stored } },
        })
        // Gone (the first request failed and let go of it), expired, or its lease ran out: claim it again.
        if (!existing || existing.expiresAt < clock()) return this.begin(owner, key, hash)
        if (existing.requestHash !== hash) {
          throw new UnprocessableError('This Idempotency-Key was already used for a different request; use a new key.', 'idempotency_key_reused')
        }
        if (existing.responseStatus !== null) {
          return { replay: { status: existing.responseStatus, body: existing.responseBody, location: existing.responseLocation } }
        }
        if (Date.now() > deadline) {
          throw new ConflictError('A request with this Idempotency-Key is still being processed; retry shortly.', 'idempotency_request_in_progress')
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      }
    },

    /**
     * Stores the response inside the write's own transaction, so the write and its key commit together
     * or not at all: after an outage a retry finds either both (and gets the stored response) or neither
     * (and runs again).
     * @throws ClaimLostError when the claim is no longer this request's (taken over or freed): the
     *   caller's transaction must roll back
     */
    async completeIn(tx: CompletionTx, id: string, response: StoredResponse): Promise<void> {
      const updated = await tx.$executeRaw`
        update idempotency_keys
           set response_status = ${response.status}, response_body = ${JSON.stringify(response.body ?? null)}::jsonb,
               response_location = ${response.location}, expires_at = created_at + ${IDEMPOTENCY_TTL_MS / 1000}::float8 * interval '1 second'
         where id = ${id}::uuid and response_status is null`
      if (updated !== 1) throw new ClaimLostError()
    },

    /** Stores the response after the fact, for a route whose write could not take it in its transaction. */
    async complete(id: string, response: StoredResponse): Promise<void> {
      await prisma.$executeRaw`
        update idempotency_keys
           set response_status = ${response.status}, response_body = ${JSON.stringify(response.body ?? null)}::jsonb,
               response_location = ${response.location}, expires_at = created_at + ${IDEMPOTENCY_TTL_MS / 1000}::float8 * interval '1 second'
         where id = ${id}::uuid and response_status is null`
    },

    /** Forgets the key after a failed request, so the client can retry with it; a completed key stays. */
    async release(id: string): Promise<void> {
      await prisma.idempotencyKey.deleteMany({ where: { id, responseStatus: null } })
    },

    /** Waits for a sweep in progress, so the database can close under it. */
    async close(): Promise<void> {
      await sweeping
    },
  }
}
