import rateLimit from '@fastify/rate-limit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { AppError } from '../lib/errors.js'

/**
 * Rate limits with `RateLimit-Limit/Remaining/Reset` headers and a 429 problem with `Retry-After`.
 * The general limit counts per user or per integrator app (per IP for anonymous calls); routes that
 * take credentials have a stricter per-IP limit and a per-account one (`limitCredentials`). With
 * REDIS_URL every instance shares the counters; if Redis is unreachable, requests pass (logged)
 * rather than failing.
 */

declare module 'fastify' {
  interface FastifyInstance {
    /** The limits of routes that take credentials: per IP, then per account (email, client id, …). */
    limitCredentials: (request: FastifyRequest, reply: FastifyReply, accountKey: string) => Promise<void>
  }
}

const UNLIMITED_ROUTES = new Set(['/healthz', '/readyz', '/metrics'])

const tooManyRequests = (after: string) => new AppError(429, 'rate_limited', 'Too Many Requests', `Rate limit exceeded; retry in ${after}.`)

export const rateLimitPlugin = fp(
  async (app, { config }: { config: Config }) => {
    const redis = config.REDIS_URL
      ? new Redis(config.REDIS_URL, { connectTimeout: 2000, commandTimeout: 1000, maxRetriesPerRequest: 1, lazyConnect: false })
      : undefined
    redis?.on('error', (error: Error) => app.log.warn({ err: error }, 'rate-limit store (Redis) error; requests are not limited meanwhile'))
    const timeWindow = config.RATE_LIMIT_WINDOW_SECONDS * 1000

    await app.register(rateLimit, {
      global: true,
      hook: 'preHandler',
      max: config.RATE_LIMIT_MAX,
      timeWindow,
      ...(redis ? { redis } : {}),
      nameSpace: config.RATE_LIMIT_NAMESPACE,
      skipOnError: true,
      enableDraftSpec: true,
      keyGenerator: (request) => {
        const principal = request.principal
        if (principal?.kind === 'user') return `user:${principal.userId}`
        if (principal?.kind === 'client') return `client:${principal.clientId}`
        return `ip:${request.ip}`
      },
      allowList: (request) => UNLIMITED_ROUTES.has(request.routeOptions.url ?? ''),
      errorResponseBuilder: (_request, context) => tooManyRequests(context.after),
    })

    // Routes that take credentials opt out of the general limit (`config: { rateLimit: false }`) and
    // call `limitCredentials` instead: a stricter per-IP counter shared by all of them, then one per
    // account. Applied by hand because the plugin limits a request only once and gives each
    // route-level limit its own in-memory store, so a group would not be shared across routes.
    const keys = new WeakMap<FastifyRequest, string>()
    const perIp = app.createRateLimit({ max: config.RATE_LIMIT_AUTH_MAX, timeWindow, keyGenerator: (request) => `credentials-ip:${request.ip}` })
    const perAccount = app.createRateLimit({
      max: config.RATE_LIMIT_ACCOUNT_MAX,
      timeWindow,
      keyGenerator: (request) => `credentials-account:${keys.get(request) ?? request.ip}`,
    })

    app.decorate('limitCredentials', async (request: FastifyRequest, reply: FastifyReply, accountKey: string) => {
      const ip = await perIp(request)
      if (ip.isAllowed) return
      reply.header('ratelimit-limit', ip.max).header('ratelimit-remaining', ip.remaining).header('ratelimit-reset', ip.ttlInSeconds)
      if (ip.isExceeded) {
        reply.header('retry-after', ip.ttlInSeconds)
        throw tooManyRequests(`${ip.ttlInSeconds} seconds`)
      }
      keys.set(request, accountKey)
      const account = await perAccount(request)
      if (!account.isAllowed && account.isExceeded) {
        reply.header('retry-after', account.ttlInSeconds)
        throw tooManyRequests(`${account.ttlInSeconds} seconds`)
      }
    })

    app.addHook('onClose', async () => {
      await redis?.quit().catch(() => undefined)
    })
  },
  { name: 'rate-limit', dependencies: ['auth-guard'] },
)
