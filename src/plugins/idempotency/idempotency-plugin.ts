import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { z } from 'zod'
import { problemResponses } from '../../lib/problem.js'
import { currentPrincipal } from '../../lib/principal.js'
import { createIdempotencyService, type IdempotencyOwner, requestHash } from './idempotency-service.js'

/**
 * `Idempotency-Key` for creating requests (IETF draft-ietf-httpapi-idempotency-key-header): a route
 * opts in with `config: { idempotent: { store, replay } }`. The first request with a key runs; a retry
 * with the same key and body gets the first response's status and `Location` again
 * (`Idempotent-Replayed: true`) without creating anything; the same key with another body is 422; a
 * failed first request frees the key. Keys belong to the caller (a user, or an app with an app token) and last 24 hours.
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
export const replayById = (read: (request: FastifyRequest, id: string) => Promise<unknown>): IdempotentReplay => ({
  store: (body) => ({ id: StoredIdSchema.parse(body).id }),
  replay: (request, stored) => read(request, StoredIdSchema.parse(stored).id),
})

const IdempotencyHeaderSchema = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'Use 1–255 visible ASCII characters, e.g. a UUID.')
    .optional()
    .describe('Makes retries safe: a repeat with the same key and body returns the first response instead of creating a second record. Keys last 24 h.'),
})

export const idempotencyPlugin = fp(
  async (app) => {
    const service = createIdempotencyService({ db: app.db, log: app.log })
    app.addHook('onClose', async () => service.close())
    const claims = new WeakMap<FastifyRequest, string>()

    async function beforeHandler(request: FastifyRequest, reply: FastifyReply) {
      const key = request.headers['idempotency-key']
      if (typeof key !== 'string') return
      const options = request.routeOptions.config.idempotent
      if (!options) return
      const principal = currentPrincipal(request)
      const owner: IdempotencyOwner = principal.kind === 'user' ? { kind: 'user', id: principal.userId } : { kind: 'client', id: principal.clientId }
      const outcome = await service.begin(owner, key, requestHash(key, request.method, request.url, request.body))
      if ('claimed' in outcome) {
        claims.set(request, outcome.claimed)
        return
      }
      const { status, body, location } = outcome.replay
      const replayed = await options.replay(request, body)
      if (location) reply.header('location', location)
      return reply.status(status).header('idempotent-replayed', 'true').type('application/json; charset=utf-8').send(JSON.stringify(replayed))
    }

    async function onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
      const id = claims.get(request)
      if (id === undefined) return payload
      claims.delete(request)
      const options = request.routeOptions.config.idempotent
      if (options && reply.statusCode >= 200 && reply.statusCode < 300) {
        const location = reply.getHeader('location')
        const body = typeof payload === 'string' && payload.length > 0 ? (JSON.parse(payload) as unknown) : null
        await service.complete(id, {
          status: reply.statusCode,
          body: options.store(body),
          location: typeof location === 'string' ? location : null,
        })
      } else {
        await service.release(id)
      }
      return payload
    }

    const wired = new WeakSet<object>()
    app.addHook('onRoute', (route: RouteOptions) => {
      if (!route.config?.idempotent || wired.has(route.config)) return
      wired.add(route.config)
      const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])
      route.preHandler = [...asArray(route.preHandler), beforeHandler]
      route.onSend = [...asArray(route.onSend), onSend]
      const schema = (route.schema ??= {}) as Record<string, unknown>
      const headers = schema.headers
      schema.headers = headers instanceof z.ZodObject ? headers.extend(IdempotencyHeaderSchema.shape) : IdempotencyHeaderSchema
      schema.response = { ...problemResponses(409, 422), ...(schema.response as object | undefined) }
    })
  },
  { name: 'idempotency', dependencies: ['database', 'auth-guard'] },
)
