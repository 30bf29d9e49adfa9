import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'

/**
 * Headers every response carries: helmet's security headers, CORS for the configured origins,
 * the request id, and `Cache-Control: no-store` unless a route chose its own caching. Nothing a
 * user owns may sit in a shared cache, and the safe default is to cache nothing.
 */
export const securityPlugin = fp(
  async (app, opts: { config: Config }) => {
    await app.register(helmet, {
      // The API serves JSON; only /docs serves HTML, and swagger-ui sets its own CSP there.
      contentSecurityPolicy: false,
      crossOriginResourcePolicy: { policy: 'same-site' },
    })

    const origins = opts.config.CORS_ORIGINS
    if (origins.length > 0) {
      await app.register(cors, {
        origin: origins.includes('*') ? '*' : origins,
        methods: ['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE'],
        allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
        exposedHeaders: ['x-request-id', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after', 'location'],
        maxAge: 600,
      })
    }

    app.addHook('onSend', async (request, reply, payload) => {
      reply.header('x-request-id', request.id)
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
      return payload
    })
  },
  { name: 'security' },
)
