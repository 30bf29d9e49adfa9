import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { contentEtag, ifNoneMatchHits } from '../lib/conditional.js'
import { AppError } from '../lib/errors.js'

/**
 * Conditional requests for routes that opt in with `config: { conditional: {...} }`: their 200 answers
 * to GET and PATCH carry a strong `ETag` (from the body's bytes, unless the handler set one, e.g. from a
 * revision), and a GET whose `If-None-Match` names it answers `304 Not Modified` with no body. The route
 * may make its answers cacheable by the app (`Cache-Control: private, max-age=…`); without that they stay
 * `no-store` (src/plugins/security.ts). `If-Match` on writes is checked by the services, in the same
 * step as the write (see the directory and journal services), so no change slips in between.
 *
 * Also: `application/merge-patch+json` (RFC 7396) is read as JSON, on PATCH only.
 */

export interface ConditionalOptions {
  /** `Cache-Control` of the route's GET answers; omitted: `no-store` (user data). */
  cacheControl?: string
}

declare module 'fastify' {
  interface FastifyContextConfig {
    conditional?: ConditionalOptions
  }
}

export const MERGE_PATCH = 'application/merge-patch+json'

/** Response headers the conditional routes document. */
export const ETAG_HEADER = { etag: { description: 'Strong entity tag of this representation: send it back as `If-None-Match` (GET → 304) or `If-Match` (PATCH/DELETE → 412 if stale).', schema: { type: 'string' } } }

export const conditionalPlugin = fp(
  async (app) => {
    app.addContentTypeParser(MERGE_PATCH, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'ignore'))
    app.addHook('preValidation', async (request: FastifyRequest) => {
      const type = request.headers['content-type']
      if (request.method !== 'PATCH' && typeof type === 'string' && type.toLowerCase().startsWith(MERGE_PATCH)) {
        throw new AppError(415, 'unsupported_media_type', 'Unsupported Media Type', `${MERGE_PATCH} is taken on PATCH only; send application/json.`)
      }
    })

    app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const options = request.routeOptions.config.conditional
      if (!options || reply.statusCode !== 200) return payload
      const method = request.method
      if (method !== 'GET' && method !== 'HEAD' && method !== 'PATCH') return payload
      let etag = reply.getHeader('etag')
      if (typeof etag !== 'string') {
        if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload
        etag = contentEtag(payload)
        reply.header('etag', etag)
      }
      if (method === 'PATCH') return payload
      if (options.cacheControl) reply.header('cache-control', options.cacheControl)
      if (ifNoneMatchHits(request.headers['if-none-match'], etag)) {
        reply.code(304)
        reply.removeHeader('content-type')
        reply.removeHeader('content-length')
        // No body: Fastify then sends the 304 with none and no Content-Length.
        return null
      }
      return payload
    })
  },
  { name: 'conditional' },
)
