import type { onRequestAsyncHookHandler, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { ForbiddenError, UnauthorizedError } from '../lib/errors.js'
import { currentPrincipal, type Principal, type RouteAuth } from '../lib/principal.js'
import { problemResponses } from '../lib/problem.js'
import type { Scope } from '../lib/scopes.js'

/**
 * Authentication and scopes, by one mechanism: a route declares `config: { auth: { scope } }`
 * and this plugin adds the guard to it, and the matching `security` and 401/403 responses to
 * its OpenAPI entry, so the document cannot disagree with what is enforced. Which tokens are good is
 * the `authenticate` function's business (the auth module's `createAuthenticator`, in identity-service.ts); this plugin only
 * reads the header, counts failures and checks the route's demands.
 */

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i

function insufficientScope(scope: Scope): ForbiddenError {
  const error = new ForbiddenError(`This request needs the scope ${scope}, which the access token does not carry.`, 'insufficient_scope', {
    requiredScope: scope,
  })
  error.headers['www-authenticate'] = `Bearer error="insufficient_scope", scope="${scope}"`
  return error
}

/** OpenAPI `security` for a route: user tokens always; integrator apps where the route admits them (with its scope, if it needs one). */
function securityFor(auth: RouteAuth): Record<string, string[]>[] {
  return auth.principal === 'any' ? [{ bearerAuth: [] }, { clientCredentials: auth.scope ? [auth.scope] : [] }] : [{ bearerAuth: [] }]
}

export const authGuardPlugin = fp(
  async (app, opts: { authenticate: (token: string) => Promise<Principal> }) => {
    app.decorateRequest('principal', null)

    /** First of the route's onRequest hooks: who is calling. Failures count per IP, and too many answer 429. */
    const authenticateHook: onRequestAsyncHookHandler = async (request, reply) => {
      await app.authFailures.check(request, reply)
      try {
        const header = request.headers.authorization
        if (!header) throw new UnauthorizedError('This request needs an access token: Authorization: Bearer <token>.')
        const token = BEARER.exec(header)?.[1]
        if (!token) throw new UnauthorizedError('The Authorization header must be `Bearer <token>`.', 'invalid_token')
        request.principal = await opts.authenticate(token)
      } catch (error) {
        if (error instanceof UnauthorizedError) await app.authFailures.record(request, reply)
        throw error
      }
    }

    /** Last of the route's onRequest hooks, after the general rate limit has counted the request: may they. */
    function authorizeHook(auth: RouteAuth): onRequestAsyncHookHandler {
      return async (request) => {
        const principal = currentPrincipal(request)
        if (auth.principal !== 'any' && principal.kind !== 'user') {
          throw new ForbiddenError("This endpoint acts on a user's own data and needs a user's access token, not an app token.", 'user_token_required')
        }
        if (auth.scope && !principal.scopes.has(auth.scope)) throw insufficientScope(auth.scope)
      }
    }

    // Fastify calls onRoute again for derived routes (HEAD for GET, trailing-slash twins) with the
    // same options; guard and document each route once.
    const guards = new WeakSet<onRequestAsyncHookHandler>([authenticateHook])
    const documented = new WeakSet<object>()
    app.addHook('onRoute', (route: RouteOptions) => {
      const auth = route.config?.auth
      if (!auth) return
      const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]
      if (!existing.some((hook) => guards.has(hook as onRequestAsyncHookHandler))) {
        const authorize = authorizeHook(auth)
        guards.add(authorize)
        // The rate-limit plugin (registered before this one) has already added its hook to `existing`.
        route.onRequest = [authenticateHook, ...existing, authorize]
      }
      const schema = (route.schema ??= {}) as Record<string, unknown>
      if (documented.has(schema)) return
      documented.add(schema)
      schema.security = securityFor(auth)
      schema.response = { ...problemResponses(401, 403), ...(schema.response as object | undefined) }
      const who = auth.principal === 'any' ? 'a user or app token' : "a user's access token"
      const note = auth.scope ? `Requires ${who} with scope \`${auth.scope}\`.` : `Requires ${who}.`
      schema.description = typeof schema.description === 'string' ? `${schema.description}\n\n${note}` : note
    })
  },
  { name: 'auth-guard', dependencies: ['rate-limit'] },
)
