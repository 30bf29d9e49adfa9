import type { PrismaClient } from '../../generated/prisma/client.js'
import { UnauthorizedError } from '../../lib/errors.js'
import type { Principal } from '../../lib/principal.js'
import { createIdentityService } from './identity-service.js'
import type { CacheClock, TokenService } from './tokens.js'

/** Turns a bearer token into the caller behind it, or refuses it (UnauthorizedError). */
export type Authenticator = (token: string) => Promise<Principal>

/**
 * What the auth guard (src/plugins/auth-guard.ts) asks of this module: verify the token, then check
 * in the database that what it speaks for is still live.
 */
export function createAuthenticator({
  tokens,
  prisma,
  clock,
}: {
  tokens: TokenService
  prisma: Pick<PrismaClient, 'authSession' | 'externalIdentity' | 'user' | 'apiClient' | '$transaction'>
  clock?: CacheClock | undefined
}): Authenticator {
  const identities = createIdentityService({ prisma, clock })
  return async (token) => {
    const verified = await tokens.verify(token)
    const scopes = new Set(verified.scopes)
    switch (verified.kind) {
      case 'client':
        // A deactivated (or deleted) app's tokens stop within a minute: its status is cached that long.
        if (!(await identities.clientIsActive(verified.clientId))) {
          throw new UnauthorizedError('The app this token was issued to has been deactivated.', 'invalid_token')
        }
        return { kind: 'client', clientId: verified.clientId, scopes }
      case 'user':
        // A revoked session (logout, refresh-token reuse) or a deleted account ends its tokens at once.
        if (!(await identities.sessionIsActive(verified.userId, verified.sessionId))) {
          throw new UnauthorizedError('The session has ended; sign in again.', 'invalid_token')
        }
        return { kind: 'user', userId: verified.userId, scopes }
      case 'external-user':
        return { kind: 'user', userId: await identities.userForExternalIdentity(verified.issuer, verified.subject), scopes }
    }
  }
}
