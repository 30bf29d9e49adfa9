import type { PrismaClient } from '../../generated/prisma/client.js'

/** Only refresh `last_seen_at` this often, so verifying a token rarely writes. */
const LAST_SEEN_RESOLUTION_MS = 60 * 60 * 1000

/** The per-request database checks behind a verified token. */
export function createIdentityService({ prisma }: { prisma: Pick<PrismaClient, 'authSession' | 'externalIdentity' | 'user' | '$transaction'> }) {
  return {
    /** True while the session is live: not logged out, not revoked for reuse, its user not deleted. */
    async sessionIsActive(userId: string, sessionId: string): Promise<boolean> {
      const session = await prisma.authSession.findFirst({ where: { id: sessionId, userId, revokedAt: null }, select: { id: true } })
      return session !== null
    },

    /**
     * The Therapath user behind `(issuer, subject)`, created on first sight. Nothing else from the
     * external token is stored: no email, no name.
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
      } catch {
        // Two first requests raced; the other one created the mapping.
        const raced = await prisma.externalIdentity.findUniqueOrThrow({ where: { issuer_subject: { issuer, subject } } })
        return raced.userId
      }
    },
  }
}
