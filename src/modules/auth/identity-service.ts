import { LRUCache } from 'lru-cache'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { isUniqueViolation } from '../../lib/db-errors.js'
import { UnauthorizedError } from '../../lib/errors.js'
import type { Principal } from '../../lib/principal.js'
import { type Actor, withTrail } from '../../lib/access-trail.js'
import type { ChangeSubscriber } from '../../db/change-feed.js'
import type { CacheClock, TokenService } from './tokens.js'

/** Only refresh `last_seen_at` this often, so verifying a token rarely writes. */
const LAST_SEEN_RESOLUTION_MS = 60 * 60 * 1000

/**
 * How long an app's active flag is reused: app tokens are verified on every directory request, and
 * apps are deactivated rarely. The change feed drops an app's entry on every instance as soon as its row
 * changes; this bound is what is left when the feed is not there (a lost connection is answered by
 * clearing the cache, so only notifications lost with no sign of a loss would wait this long).
 */
const CLIENT_STATUS_CACHE_MS = 60_000
const CLIENT_STATUS_CACHE_SIZE = 10_000

/** The per-request database checks behind a verified token. */
export function createIdentityService({
  prisma,
  clock,
}: {
  prisma: Pick<PrismaClient, 'authSession' | 'externalIdentity' | 'user' | 'apiClient' | '$transaction'>
  /** What the status cache measures its minute with; tests inject one they can move. */
  clock?: CacheClock | undefined
}) {
  const clientStatus = new LRUCache<string, boolean>({
    max: CLIENT_STATUS_CACHE_SIZE,
    ttl: CLIENT_STATUS_CACHE_MS,
    // Read the clock on every check rather than arming a timer to refresh a cached reading.
    ttlResolution: 0,
    perf: clock,
    fetchMethod: async (clientId) => {
      const client = await prisma.apiClient.findUnique({ where: { clientId }, select: { active: true } })
      return client?.active === true
    },
  })

  return {
    /** True while the session is live: not logged out, not revoked for reuse, its user not deleted. */
    async sessionIsActive(userId: string, sessionId: string): Promise<boolean> {
      const session = await prisma.authSession.findFirst({ where: { id: sessionId, userId, revokedAt: null }, select: { id: true } })
      return session !== null
    },

    /** True while the app exists and is active; remembered per app until its row changes (at most a minute). */
    clientIsActive: (clientId: string): Promise<boolean> => clientStatus.forceFetch(clientId),

    /** The app changed (or, with `undefined`, anything may have): read its status again. */
    forgetClient(clientId?: string): void {
      if (clientId === undefined) clientStatus.clear()
      else clientStatus.delete(clientId)
    },

    /**
     * The Therapath user behind `(issuer, subject)`, created on first sight. Nothing else from the
     * external token is stored: no email, no name. After the user deletes their account, the next
     * token for the same `(issuer, subject)` is a first sight again and gets a new, empty user.
     */
    async userForExternalIdentity(issuer: string, subject: string): Promise<string> {
      const known = await prisma.externalIdentity.findUnique({ where: { issuer_subject: { issuer, subject } } })
      if (known) {
        if (Date.now() - known.lastSeenAt.getTime() > LAST_SEEN_RESOLUTION_MS) {
          await prisma.externalIdentity.update({ where: { id: known.id }, data: { lastSeenAt: new Date() } })
        }
        return known.userId
      }
      try {
        // The account's creation is on its access trail, in the same transaction.
        const actor: Actor = { principal: { kind: 'issuer', id: issuer }, requestId: null }
        return await withTrail(
          prisma,
          actor,
          async (tx) => (await tx.user.create({ data: { identities: { create: { issuer, subject } } }, select: { id: true } })).id,
          (userId) => ({ userId, action: 'create', resourceType: 'account' }),
        )
      } catch (error) {
        // Only a unique violation means two first requests raced and the other created the mapping.
        if (!isUniqueViolation(error)) throw error
        const raced = await prisma.externalIdentity.findUniqueOrThrow({ where: { issuer_subject: { issuer, subject } } })
        return raced.userId
      }
    },
  }
}

/** For the auth guard (src/plugins/auth-guard.ts): the caller behind a bearer token, verified and still live, or UnauthorizedError. */
export function createAuthenticator({
  tokens,
  changes,
  ...deps
}: { tokens: TokenService; changes?: ChangeSubscriber | undefined } & Parameters<typeof createIdentityService>[0]): (token: string) => Promise<Principal> {
  const identities = createIdentityService(deps)
  // Whichever instance (or operator) deactivated an app or deleted an account, this one forgets what it cached of them.
  changes?.((event) => {
    switch (event.kind) {
      case 'client':
        identities.forgetClient(event.clientId)
        tokens.forget((verified) => verified.kind === 'client' && verified.clientId === event.clientId)
        return
      case 'user':
        tokens.forget((verified) => verified.kind === 'user' && verified.userId === event.userId)
        return
      case 'reset':
        identities.forgetClient()
        return
      case 'vocabulary':
      case 'therapists':
        return
    }
  })
  return async (token) => {
    const verified = await tokens.verify(token)
    const scopes = new Set(verified.scopes)
    switch (verified.kind) {
      case 'client':
        // A deactivated (or deleted) app's tokens stop once the change feed says so (a minute at most).
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
        return { kind: 'user', userId: await identities.userForExternalIdentity(verified.issuer, verified.subject), scopes, issuer: verified.issuer }
    }
  }
}
