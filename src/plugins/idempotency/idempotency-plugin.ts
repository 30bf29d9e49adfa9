import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { z } from 'zod'
import { problemResponses } from '../../lib/problem.js'
import { currentPrincipal } from '../../lib/principal.js'
import { runWithWriteHook, type WriteHook } from '../../lib/write-hook.js'
import { createIdempotencyService, type IdempotencyOwner, requestHash, type StoredResponse } from './idempotency-service.js'

/**
 * `Idempotency-Key` for creating requests (IETF draft-ietf-httpapi-idempotency-key-header): a route
 * opts in with `config: { idempotent: { store, replay, committed } }`. The first request with a key runs; a retry
 * with the same key and body gets the first response's status and `Location` again
 * (`Idempotent-Replayed: true`) without creating anything; the same key with another body is 422; a
 * failed first request frees the key. Keys belong to the caller (a user, or an app with an app token) and last 24 hours.
 *
 * The key and the write commit together: a route with `committed` stores its response in the write's
 * own transaction (through `withTrail`, see src/lib/write-hook.ts), so after a crash or a database
 * outage a retry finds either the write and its response, or neither and runs again. A claim whose
 * request never finished is a lease (IDEMPOTENCY_LEASE_SECONDS): a retry takes it over after that,
 * and the old request, should it still try to commit, is rolled back (`idempotency_claim_lost`).
 *
 * Responses are never copied into the idempotency table: only what `store` returns is kept (the new
 * record's id, see `replayById`), and a retry answers with what `replay` rebuilds from it, so a record
 * deleted since is not brought back by a retry, and the table holds no journal text or answers.
 */

export interface IdempotentReplay {
  /** What to keep of a successful response body; the rest is never written down. */
  store(body: unknown): unknown
  /** The body a retry gets, rebuilt from what `store` kept (e.g. by reading the record again). */
  replay(request: FastifyRequest, stored: unknown): Promise<unknown>
  /**
   * The response to store for the record the request created (its id, from the write's trail event), in
   * the write's transaction. Without it the response is stored after it was sent, which an outage in
   * between loses (the key is then blocked for one lease and the retry runs again).
   */
  committed?(id: string): StoredResponse
}

declare module 'fastify' {
  interface FastifyContextConfig {
    idempotent?: IdempotentReplay
  }
}

const StoredIdSchema = z.object({ id: z.uuid() })

/**
 * Keeps only the new record's `id` (from the response body); a retry reads the record again with
 * `read`, which answers 404 (NotFoundError) once it was deleted.
 */
export const replayById = (read: (request: FastifyRequest, id: string) => Promise<unknown>, location?: (id: string) => string): IdempotentReplay => ({
  store: (body) => ({ id: StoredIdSchema.parse(body).id }),
  replay: (request, stored) => read(request, StoredIdSchema.parse(stored).id),
  ...(location ? { committed: (id: string): StoredResponse => ({ status: 201, body: { id }, location: location(id) }) } : {}),
})

/** A claimed key of a request in progress; `done` once its response is stored in the write's transaction. */
interface Claim {
  id: string
  done: boolean
}

const IdempotencyHeaderSchema = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'Use 1–255 visible ASCII characters, e.g. a UUID.')
    .optional()
    .describe('Makes retries safe: a repeat with the same key and body returns the first response instead of creating a second record. Keys last 24 h.'),
})

export const idempotencyPlugin = fp(
  async (app, opts: { leaseSeconds?: number }) => {
    const service = createIdempotencyService({ db: app.db, log: app.log, leaseMs: opts.leaseSeconds === undefined ? undefined : opts.leaseSeconds * 1000 })
    app.addHook('onClose', async () => service.close())
    const claims = new WeakMap<FastifyRequest, Claim>()

    async function beforeHandler(request: FastifyRequest, reply: FastifyReply) {
      const key = request.headers['idempotency-key']
      if (typeof key !== 'string') return
      const options = request.routeOptions.config.idempotent
      if (!options) return
      const principal = currentPrincipal(request)
      const owner: IdempotencyOwner = principal.kind === 'user' ? { kind: 'user', id: principal.userId } : { kind: 'client', id: principal.clientId }
      const outcome = await service.begin(owner, key, requestHash(key, request.method, request.url, request.body))
      if ('claimed' in outcome) {
        claims.set(request, { id: outcome.claimed, done: false })
        return
      }
      const { status, body, location } = outcome.replay
      const replayed = await options.replay(request, body)
      if (location) reply.header('location', location)
      return reply.status(status).header('idempotent-replayed', 'true').type('application/json; charset=utf-8').send(JSON.stringify(replayed))
    }

    /** Stores the response with the first write of the request that created a record, in its transaction. */
    const hookFor =
      (claim: Claim, options: IdempotentReplay): WriteHook =>
      async (tx, events) => {
        const created = events.find((event) => event.action === 'create' && event.resourceId)
        if (claim.done || !options.committed || !created?.resourceId) return
        await service.completeIn(tx, claim.id, options.committed(created.resourceId))
        claim.done = true
      }

    /**
     * Stores the response (unless the write did), or frees the key of a failed request. Never throws: a
     * failure here (the database went away) must not replace the response being sent; the key then
     * stays claimed until its lease ends.
     */
    async function onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
      const claim = claims.get(request)
      if (claim === undefined) return payload
      claims.delete(request)
      const options = request.routeOptions.config.idempotent
      try {
        if (options && reply.statusCode >= 200 && reply.statusCode < 300) {
          if (!claim.done) {
            const location = reply.getHeader('location')
            const body = typeof payload === 'string' && payload.length > 0 ? (JSON.parse(payload) as unknown) : null
            await service.complete(claim.id, {
              status: reply.statusCode,
              body: options.store(body),
              location: typeof location === 'string' ? location : null,
            })
          }
        } else {
          await service.release(claim.id)
        }
      } catch (error) {
        request.log.warn({ err: error }, 'could not record the outcome of an Idempotency-Key; it is freed when its lease ends')
      }
      return payload
    }

    const wired = new WeakSet<object>()
    app.addHook('onRoute', (route: RouteOptions) => {
      const config = route.config
      const options = config?.idempotent
      if (!config || !options || wired.has(config)) return
      wired.add(config)
      const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])
      route.preHandler = [...asArray(route.preHandler), beforeHandler]
      route.onSend = [...asArray(route.onSend), onSend]
      const handler = route.handler
      route.handler = function (this: FastifyInstance, request, reply) {
        const claim = claims.get(request)
        return claim ? runWithWriteHook(hookFor(claim, options), () => handler.call(this, request, reply)) : handler.call(this, request, reply)
      }
      const schema = (route.schema ??= {}) as Record<string, unknown>
      const headers = schema.headers
      schema.headers = headers instanceof z.ZodObject ? headers.extend(IdempotencyHeaderSchema.shape) : IdempotencyHeaderSchema
      schema.response = { ...problemResponses(409, 422), ...(schema.response as object | undefined) }
    })
  },
  { name: 'idempotency', dependencies: ['database', 'auth-guard'] },
)
