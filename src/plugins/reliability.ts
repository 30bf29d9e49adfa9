import type { FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { type FieldError, ValidationError } from '../lib/errors.js'
import { problemResponses } from '../lib/problem.js'

/**
 * How the service behaves at its edges, the same way everywhere:
 * - (while it shuts down, requests that still arrive on kept-alive connections are answered with
 *   `Connection: close`: src/plugins/shutdown.ts and src/lifecycle/shutdown.ts);
 * - every route documents the answers any request can get: 503 (database unavailable, deadline) and,
 *   for routes with path parameters, 414 (a parameter over the router's 100 characters);
 * - behind a proxy with TRUST_PROXY_HOPS=0, per-IP limits see only the proxy: said once in the log.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route checks its own text for NUL characters and unpaired surrogates (the OAuth token endpoint answers in RFC 6749's shape). */
    ownTextCheck?: boolean
  }
}

/** A NUL character (Postgres text cannot hold it) or a UTF-16 surrogate without its pair (not Unicode text). */
// eslint-disable-next-line no-control-regex -- NUL is exactly what it looks for
export const UNSTORABLE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Arrays and data objects (the query parser's have a prototype-less prototype), never streams or buffers. */
const isPlain = (value: object): boolean => {
  if (Array.isArray(value)) return true
  const proto = Object.getPrototypeOf(value) as object | null
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null
}

/** The dotted path of the first string (or key) in `value` that cannot be stored as text, if any. */
export function unstorableTextAt(value: unknown, path: string[] = [], depth = 0): string | undefined {
  if (typeof value === 'string') return UNSTORABLE_TEXT.test(value) ? path.join('.') : undefined
  if (typeof value !== 'object' || value === null || depth > 32 || !isPlain(value)) return undefined
  for (const [key, item] of Object.entries(value)) {
    if (UNSTORABLE_TEXT.test(key)) return [...path, key].join('.')
    const found = unstorableTextAt(item, [...path, key], depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

const PLACES: [keyof Pick<FastifyRequest, 'body' | 'query' | 'params'>, FieldError['in']][] = [
  ['params', 'path'],
  ['query', 'query'],
  ['body', 'body'],
]

export const reliabilityPlugin = fp(
  async (app, { config }: { config: Config }) => {
    let warnedForwarded = false
    app.addHook('onRequest', async (request) => {
      if (!warnedForwarded && config.TRUST_PROXY_HOPS === 0 && request.headers['x-forwarded-for'] !== undefined) {
        warnedForwarded = true
        request.log.warn(
          'a request came with X-Forwarded-For but TRUST_PROXY_HOPS is 0: every client behind the proxy shares one address for rate limits; set TRUST_PROXY_HOPS to the number of proxies in front of the service',
        )
      }
    })

    // Before any schema or query sees the input: text no database column can hold is a 400 naming the field.
    app.addHook('preValidation', async (request) => {
      if (request.routeOptions.config.ownTextCheck) return
      for (const [part, place] of PLACES) {
        const field = unstorableTextAt(request[part])
        if (field !== undefined) {
          throw new ValidationError(`The request is invalid: 1 problem in the ${place}.`, [
            { in: place, field, message: 'Must not contain NUL characters or unpaired UTF-16 surrogates.', code: 'invalid_characters' },
          ])
        }
      }
    })

    app.addHook('onRoute', (route: RouteOptions) => {
      const schema = route.schema as { response?: Record<string | number, unknown>; hide?: boolean } | undefined
      if (!schema?.response) return
      const extra = route.url.includes(':') ? problemResponses(414, 503) : problemResponses(503)
      schema.response = { ...extra, ...schema.response }
    })
  },
  { name: 'reliability', dependencies: ['error-handler'] },
)
