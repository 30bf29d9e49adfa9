import { LRUCache } from 'lru-cache'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { isUniqueViolation } from '../../lib/db-errors.js'

/** Only refresh `last_seen_at` this often, so verifying a token rarely writes. */
const LAST_SEEN_RESOLUTION_MS = 60 * 60 * 1000

/**
 * How long an app's active flag is reused: app tokens are verified on every directory request, and
 * apps are deactivated rarely, so deactivation takes effect within this time rather than at once.
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
  clock?: { now(): number } | undefined
}) {
  const clientStatus = new LRUCache<string, boolean>({
    max: CLIENT_STATUS_CACHE_SIZE,
    ttl: CLIENT_STATUS_CACHE_MS,
    // Read the clock on every check rather than arming a timer to refresh a cached reading.
    ttlResolution: 0,
    ...(clock ? { perf: clock } : {}),
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

    /** True while the app exists and is active; remembered per app for up to a minute. */
    async clientIsActive(clientId: string): Promise<boolean> {
      return (await clientStatus.fetch(clientId)) === true
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
        const user = await prisma.user.create({ data: { identities: { create: { issuer, subject } } }, select: { id: true } })
        return user.id
      } catch (error) {
        // Only a unique violation means two first requests raced and the other created the mapping.
        if (!isUniqueViolation(error)) throw error
        const raced = await prisma.externalIdentity.findUniqueOrThrow({ where: { issuer_subject: { issuer, subject } } })
        return raced.userId
      }
    },
  }
}
