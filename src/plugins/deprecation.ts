import type { RouteOptions } from 'fastify'
import fp from 'fastify-plugin'

/**
 * How an operation is retired within `/v1` (CHANGELOG.md, "Versioning"): a route marked
 * `config: { deprecated: { since, sunset?, link? } }` answers every request with `Deprecation`
 * (RFC 9745: when it was deprecated, as `@<unix seconds>`), `Sunset` (RFC 8594: when it may stop
 * answering, as an HTTP-date) and `Link: <…>; rel="deprecation"` to what to use instead, and is
 * `deprecated: true` in the OpenAPI document. Nothing is removed before its sunset.
 */

export interface Deprecation {
  /** When the operation was deprecated. */
  since: Date
  /** When it may stop answering: at least six months after `since`. */
  sunset?: Date
  /** A page saying what to use instead (the CHANGELOG entry). */
  link?: string
}

declare module 'fastify' {
  interface FastifyContextConfig {
    deprecated?: Deprecation
  }
}

/** The response headers of a deprecated operation. */
export function deprecationHeaders({ since, sunset, link }: Deprecation): Record<string, string> {
  return {
    deprecation: `@${Math.floor(since.getTime() / 1000)}`,
    ...(sunset ? { sunset: sunset.toUTCString() } : {}),
    ...(link ? { link: `<${link}>; rel="deprecation"; type="text/html"` } : {}),
  }
}

export const deprecationPlugin = fp(
  async (app) => {
    app.addHook('onRoute', (route: RouteOptions) => {
      const deprecated = route.config?.deprecated
      if (!deprecated) return
      const schema = (route.schema ??= {}) as Record<string, unknown>
      schema.deprecated = true
      const headers = deprecationHeaders(deprecated)
      const previous = route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend]
      route.onSend = [
        ...previous,
        async (_request, reply, payload) => {
          for (const [name, value] of Object.entries(headers)) reply.header(name, value)
          return payload
        },
      ]
    })
  },
  { name: 'deprecation' },
)
