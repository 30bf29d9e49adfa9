import type { FastifyRequest } from 'fastify'
import { UnauthorizedError } from './errors.js'
import type { Scope } from './scopes.js'

/** The caller behind a verified token: the auth guard (src/plugins/auth-guard.ts) sets it on routes declaring `config: { auth }`. */
export type Principal =
  /** `issuer`: the token came from this trusted identity provider, not from Therapath. */
  | { kind: 'user'; userId: string; scopes: ReadonlySet<Scope>; issuer?: string }
  | { kind: 'client'; clientId: string; scopes: ReadonlySet<Scope> }

export interface RouteAuth {
  /** The scope the token must carry; omitted, any valid token of the right kind will do. */
  scope?: Scope
  /** `user` (the default) admits only end-user tokens; `any` admits integrator apps too. */
  principal?: 'user' | 'any'
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

/** The signed-in user's id. Only for routes declared with `auth`, where the guard has run. */
export function currentUserId(request: FastifyRequest): string {
  const principal = request.principal
  if (principal?.kind !== 'user') throw new UnauthorizedError()
  return principal.userId
}

export function currentPrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthorizedError()
  return request.principal
}
