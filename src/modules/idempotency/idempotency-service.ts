import { createHash } from 'node:crypto'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { ConflictError, UnprocessableError } from '../../lib/errors.js'

/** How long a key is remembered: retries come within minutes; a day covers long outages. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000
/** How long a retry waits for the first request with its key to finish before answering 409. */
const WAIT_FOR_FIRST_MS = 5000
const POLL_MS = 25

export interface StoredResponse {
  status: number
  body: unknown
  location: string | null
}

/** JSON with sorted keys, so `{a, b}` and `{b, a}` are the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

export const requestHash = (method: string, path: string, body: unknown): string =>
  createHash('sha256').update(`${method} ${path}\n${canonicalJson(body)}`).digest('hex')

export function createIdempotencyService({ prisma }: { prisma: Pick<PrismaClient, 'idempotencyKey'> }) {
  return {
    /**
     * Claims `key` for this request. Returns `{ claimed: id }` when this request is the first
     * (it must then `complete` or `release`), or the stored response of the first one.
     * @throws UnprocessableError when the key was used for a different request
     * @throws ConflictError when the first request is still running after a short wait
     */
    async begin(userId: string, key: string, hash: string): Promise<{ claimed: string } | { replay: StoredResponse }> {
      const now = new Date()
      await prisma.idempotencyKey.deleteMany({ where: { userId, expiresAt: { lt: now } } })
      const claimed = await prisma.idempotencyKey.createManyAndReturn({
        data: [{ userId, key, requestHash: hash, expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS) }],
        skipDuplicates: true,
        select: { id: true },
      })
      if (claimed[0]) return { claimed: claimed[0].id }

      const deadline = Date.now() + WAIT_FOR_FIRST_MS
      for (;;) {
        const existing = await prisma.idempotencyKey.findUnique({ where: { userId_key: { userId, key } } })
        if (!existing) return this.begin(userId, key, hash) // the first request failed and let go of the key
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

    /** Stores the response the claimed request produced, for later retries. */
    async complete(id: string, response: StoredResponse): Promise<void> {
      await prisma.idempotencyKey.update({
        where: { id },
        data: { responseStatus: response.status, responseBody: response.body ?? undefined, responseLocation: response.location },
      })
    },

    /** Forgets the key after a failed request, so the client can retry with it. */
    async release(id: string): Promise<void> {
      await prisma.idempotencyKey.deleteMany({ where: { id } })
    },
  }
}
