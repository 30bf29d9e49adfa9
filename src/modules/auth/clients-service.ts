import { randomBytes } from 'node:crypto'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { sha256Hex } from '../../lib/hash.js'
import { CLIENT_SCOPES, isScope, type Scope } from '../../lib/scopes.js'
import { safeEqual } from '../../lib/secure-compare.js'
import type { TokenService } from './tokens.js'

/**
 * Integrator apps and the OAuth 2.0 client-credentials grant (RFC 6749 §4.4). Secrets are 256
 * random bits shown once at creation and stored as SHA-256: a slow password hash adds nothing
 * for secrets nobody chose, and the token endpoint stays fast.
 */

/** An RFC 6749 §5.2 error, answered as `{error, error_description}`, not problem+json. */
export class OAuthError extends Error {
  override name = 'OAuthError'
  constructor(
    readonly status: 400 | 401,
    readonly error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope',
    readonly description: string,
  ) {
    super(description)
  }
}

export interface CreatedClient {
  clientId: string
  clientSecret: string
  name: string
  scopes: Scope[]
}

/** Compared against when the client id is unknown, so both failures take the same time. */
const DECOY_SECRET_HASH = sha256Hex(randomBytes(32))

/**
 * Registers an app (operator CLI, demo data). The secret is returned here and never again.
 * @throws Error when a scope is not one apps may hold
 */
export async function createApiClient(
  prisma: Pick<PrismaClient, 'apiClient'>,
  input: { name: string; scopes: string[]; clientId?: string },
): Promise<CreatedClient> {
  const refused = input.scopes.filter((scope) => !isScope(scope) || !CLIENT_SCOPES.includes(scope))
  if (refused.length > 0) throw new Error(`apps may only be granted ${CLIENT_SCOPES.join(', ')}; not ${refused.join(', ')}`)
  if (input.scopes.length === 0) throw new Error('an app needs at least one scope')
  const name = input.name.trim()
  if (name.length === 0 || name.length > 200) throw new Error('an app needs a name of 1–200 characters')
  const clientId = input.clientId ?? `tpc_${randomBytes(12).toString('base64url')}`
  const clientSecret = `tps_${randomBytes(32).toString('base64url')}`
  const scopes = [...new Set(input.scopes)] as Scope[]
  await prisma.apiClient.create({ data: { clientId, name, secretHash: sha256Hex(clientSecret), allowedScopes: scopes } })
  return { clientId, clientSecret, name, scopes }
}

export function createClientService({ prisma, tokens }: { prisma: Pick<PrismaClient, 'apiClient'>; tokens: TokenService }) {
  return {
    /**
     * The client-credentials grant.
     * @param requestedScope - space-separated; omitted → every scope the app is allowed
     * @throws OAuthError invalid_client (unknown, wrong secret, inactive) or invalid_scope
     */
    async issueToken(clientId: string, clientSecret: string, requestedScope: string | undefined) {
      const client = await prisma.apiClient.findUnique({ where: { clientId } })
      const secretMatches = safeEqual(sha256Hex(clientSecret), client?.secretHash ?? DECOY_SECRET_HASH)
      if (!client || !secretMatches || !client.active) throw new OAuthError(401, 'invalid_client', 'Client authentication failed.')

      const allowed = client.allowedScopes.filter(isScope)
      let scopes: Scope[] = allowed
      if (requestedScope !== undefined && requestedScope.trim() !== '') {
        const requested = [...new Set(requestedScope.trim().split(/ +/))]
        const refused = requested.filter((scope) => !isScope(scope) || !allowed.includes(scope))
        if (refused.length > 0) throw new OAuthError(400, 'invalid_scope', `This client may not request: ${refused.join(' ')}. Allowed: ${allowed.join(' ')}.`)
        scopes = requested as Scope[]
      }
      const issued = await tokens.issueClientToken(client.clientId, scopes)
      return { access_token: issued.token, token_type: 'Bearer' as const, expires_in: issued.expiresIn, scope: scopes.join(' ') }
    },
  }
}
