import rateLimit from '@fastify/rate-limit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { AppError } from '../lib/errors.js'

/**
 * Rate limits with `RateLimit-Limit/Remaining/Reset` headers and a 429 problem with `Retry-After`.
 *
 * - The general limit counts every request per user or per integrator app (per IP for anonymous
 *   calls). It runs in `onRequest`, right after the auth guard has identified the caller and before
 *   anything else, so requests that end in 400, 403 or 404, or that carry an `Idempotency-Key`,
 *   count like any other, and a refused request touches nothing.
 * - Failed authentications (401 from the auth guard) count per IP (`authFailures`), with an anonymous
 *   caller's allowance (RATE_LIMIT_MAX): once an address has failed that often in a window, its
 *   requests to routes that need a token answer 429 until the window ends, without a token being
 *   verified. Not the stricter sign-in limit: clients behind one NAT whose tokens expire each fail
 *   once, legitimately, before refreshing.
 * - Routes that take credentials have a stricter per-IP limit and a per-account one (`limitCredentials`),
 *   counted per account and address, so nobody can lock an account's owner out from another address.
 *   Behind a load balancer set TRUST_PROXY_HOPS, or every client shares the balancer's address.
 *
 * With REDIS_URL every instance shares the counters; while Redis is unreachable, requests pass
 * (logged once per outage) rather than failing or waiting.
 */

declare module 'fastify' {
  interface FastifyInstance {
    /** The limits of routes that take credentials: per IP, then per account (email, client id, …). */
    limitCredentials: (request: FastifyRequest, reply: FastifyReply, accountKey: string) => Promise<void>
    /** Failed authentications per IP: `check` before verifying a token, `record` when it failed. */
    authFailures: {
      check(request: FastifyRequest, reply: FastifyReply): Promise<void>
      record(request: FastifyRequest, reply: FastifyReply): Promise<void>
    }
  }
}

const UNLIMITED_ROUTES = new Set(['/healthz', '/readyz', '/metrics'])

const tooManyRequests = (after: string, detail = 'Rate limit exceeded') => new AppError(429, 'rate_limited', 'Too Many Requests', `${detail}; retry in ${after}.`)

/** One counter's state after a request, as the RateLimit headers report it. */
interface LimitState {
  max: number
  remaining: number
  ttlInSeconds: number
}

function report(reply: FastifyReply, state: LimitState): void {
  reply.header('ratelimit-limit', state.max).header('ratelimit-remaining', state.remaining).header('ratelimit-reset', state.ttlInSeconds)
}

function refuse(reply: FastifyReply, state: LimitState, detail?: string): never {
  report(reply, { ...state, remaining: 0 })
  reply.header('retry-after', state.ttlInSeconds)
  throw tooManyRequests(`${state.ttlInSeconds} seconds`, detail)
}

export const rateLimitPlugin = fp(
  async (app, { config }: { config: Config }) => {
    // No offline queue: while Redis is down a limiter call fails at once (and skipOnError lets the
    // request through) instead of waiting for a reconnection that may not come.
    const redis = config.REDIS_URL
      ? new Redis(config.REDIS_URL, { connectTimeout: 2000, commandTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false })
      : undefined
    // ioredis emits an error for every failed reconnection attempt: log the outage once, and its end.
    let storeDown = false
    redis?.on('error', (error: Error) => {
      if (storeDown) return
      storeDown = true
      app.log.warn({ err: error }, 'rate-limit store (Redis) unreachable; requests are not limited until it is back')
    })
    redis?.on('ready', () => {
      if (!storeDown) return
      storeDown = false
      app.log.info('rate-limit store (Redis) is back; limits apply again')
    })
    // Without an offline queue, calls before the connection is up would pass unlimited: start once
    // Redis is ready, or has failed (then requests pass until it is back, as in any outage).
    if (redis) await new Promise((resolve) => redis.once('ready', resolve).once('error', resolve))
    const timeWindow = config.RATE_LIMIT_WINDOW_SECONDS * 1000

    await app.register(rateLimit, {
      global: true,
      // Route-level onRequest hooks run in order: the auth guard puts its authentication first and
      // its scope check last, so this limit counts per caller and includes refused (403) requests.
      hook: 'onRequest',
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
      // Per account *and* address: guessing someone's password from one address cannot lock the owner
      // out from theirs, while the per-IP limit above still bounds each address's guesses in total.
      keyGenerator: (request) => `credentials-account:${keys.get(request) ?? ''}:${request.ip}`,
    })

    app.decorate('limitCredentials', async (request: FastifyRequest, reply: FastifyReply, accountKey: string) => {
      const ip = await perIp(request)
      if (ip.isAllowed) return
      if (ip.isExceeded) refuse(reply, ip)
      keys.set(request, accountKey)
      const account = await perAccount(request)
      if (account.isAllowed) return report(reply, ip)
      if (account.isExceeded) refuse(reply, account, 'Too many attempts for this account')
      // The headers describe whichever limit is closer to refusing this caller.
      report(reply, account.remaining < ip.remaining ? account : ip)
    })

    // Its own counter, so anonymous calls, sign-ins and refused tokens from one address do not use
    // up each other's allowance.
    const failures = app.createRateLimit({ max: config.RATE_LIMIT_MAX, timeWindow, keyGenerator: (request) => `auth-failures-ip:${request.ip}` })
    app.decorate('authFailures', {
      async check(request: FastifyRequest, reply: FastifyReply) {
        const state = await failures(request, { increment: false })
        if (!state.isAllowed && state.remaining === 0) refuse(reply, state, 'Too many failed authentications from this address')
      },
      async record(request: FastifyRequest, reply: FastifyReply) {
        const state = await failures(request)
        if (!state.isAllowed) report(reply, state)
      },
    })

    app.addHook('onClose', async () => {
      await redis?.quit().catch(() => undefined)
    })
  },
  { name: 'rate-limit' },
)
