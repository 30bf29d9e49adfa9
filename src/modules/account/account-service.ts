import type { PrismaClient } from '../../generated/prisma/client.js'
import { NotFoundError } from '../../lib/errors.js'
import type { Scope } from '../../lib/scopes.js'
import type { AccountDataRegistry } from '../../lib/account-data.js'
import { toUser } from '../../lib/user.js'

export function createAccountService({ prisma, registry }: { prisma: Pick<PrismaClient, 'user'>; registry: AccountDataRegistry }) {
  async function findUser(userId: string) {
    const user = await prisma.user.findUnique({
      where: { id: userId },
      include: { identities: { select: { issuer: true, createdAt: true } } },
    })
    if (!user) throw new NotFoundError('user')
    return user
  }

  return {
    async me(userId: string, scopes: ReadonlySet<Scope>) {
      const user = await findUser(userId)
      return {
        ...toUser(user),
        signIn: user.passwordHash !== null ? ('password' as const) : ('external' as const),
        identityProviders: user.identities.map((identity) => identity.issuer),
        scopes: [...scopes],
      }
    },

    /** The user's whole record, one section per feature the token may read. */
    async export(userId: string, scopes: ReadonlySet<Scope>) {
      const user = await findUser(userId)
      const allowed = registry.sections().filter((section) => scopes.has(section.scope))
      const sections = await Promise.all(allowed.map(async (section) => [section.name, await section.export(userId)] as const))
      return {
        exportedAt: new Date().toISOString(),
        user: {
          ...toUser(user),
          identityProviders: user.identities.map((identity) => ({ issuer: identity.issuer, linkedAt: identity.createdAt.toISOString() })),
        },
        ...Object.fromEntries(sections),
        omittedSections: registry
          .sections()
          .filter((section) => !scopes.has(section.scope))
          .map((section) => section.name),
      }
    },

    /** Deletes the user; ON DELETE CASCADE removes everything they own in the same statement. */
    async delete(userId: string): Promise<void> {
      const deleted = await prisma.user.deleteMany({ where: { id: userId } })
      if (deleted.count === 0) throw new NotFoundError('user')
    },
  }
}
