import type { Config } from '../../config.js'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { type Actor, erasedChain, recordNow, withTrail } from '../../lib/access-trail.js'
import type { AccountDataRegistry } from '../../lib/account-data.js'
import { NotFoundError, ValidationError } from '../../lib/errors.js'
import type { Scope } from '../../lib/scopes.js'
import { toUser } from '../../lib/user.js'

type Deps = {
  prisma: Pick<PrismaClient, 'user' | 'userSettings' | '$transaction'>
  registry: AccountDataRegistry
  config: Pick<Config, 'JOURNAL_RETENTION_MAX_DAYS'>
}

export interface SettingsChanges {
  journalRetentionDays?: number | null | undefined
  timeZone?: string | undefined
}

export function createAccountService({ prisma, registry, config }: Deps) {
  const maxRetention = config.JOURNAL_RETENTION_MAX_DAYS ?? null

  const findUser = (db: Pick<PrismaClient, 'user'>, userId: string) =>
    db.user
      .findUnique({ where: { id: userId }, include: { identities: { select: { issuer: true, createdAt: true } } } })
      .then((user) => user ?? Promise.reject(new NotFoundError('user')))

  const settingsView = (row: { journalRetentionDays: number | null; timeZone: string } | null) => {
    const chosen = row?.journalRetentionDays ?? null
    return {
      journalRetentionDays: chosen,
      timeZone: row?.timeZone ?? 'UTC',
      maxJournalRetentionDays: maxRetention,
      effectiveJournalRetentionDays: chosen === null ? maxRetention : maxRetention === null ? chosen : Math.min(chosen, maxRetention),
    }
  }

  return {
    async me(userId: string, scopes: ReadonlySet<Scope>, actor: Actor) {
      const user = await withTrail(prisma, actor, (tx) => findUser(tx, userId), () => ({ userId, action: 'read', resourceType: 'account' }))
      return {
        ...toUser(user),
        signIn: user.passwordHash !== null ? ('password' as const) : ('external' as const),
        identityProviders: user.identities.map((identity) => identity.issuer),
        scopes: [...scopes],
      }
    },

    /** The user's whole record, one section per feature the token may read. The export is recorded before anything is read. */
    async export(userId: string, scopes: ReadonlySet<Scope>, actor: Actor) {
      const user = await findUser(prisma, userId)
      await recordNow(prisma, actor, { userId, action: 'export', resourceType: 'account' })
      const readable = (section: { scope?: Scope | undefined }) => section.scope === undefined || scopes.has(section.scope)
      const allowed = registry.sections().filter(readable)
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
          .filter((section) => !readable(section))
          .map((section) => section.name),
      }
    },

    /**
     * Deletes the user; ON DELETE CASCADE removes everything they own in the same statement, their access
     * trail included (the transaction names them in `therapath.erasing_user`, the one DELETE the trail's
     * trigger admits). One record of the deletion is kept, under a one-way hash of their id.
     */
    async delete(userId: string, actor: Actor): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await tx.$queryRaw`select set_config('therapath.erasing_user', ${userId}, true)`
        const deleted = await tx.user.deleteMany({ where: { id: userId } })
        if (deleted.count === 0) throw new NotFoundError('user')
        await tx.accessRecord.create({
          data: {
            chain: erasedChain(userId),
            userId: null,
            principalKind: actor.principal.kind,
            principalId: actor.principal.kind === 'user' ? null : actor.principal.id,
            action: 'delete',
            resourceType: 'account',
            requestId: actor.requestId,
          },
        })
      })
    },

    async settings(userId: string, actor: Actor) {
      const row = await withTrail(
        prisma,
        actor,
        (tx) => tx.userSettings.findUnique({ where: { userId } }),
        () => ({ userId, action: 'read', resourceType: 'settings' }),
      )
      return settingsView(row)
    },

    /**
     * Changes the user's settings.
     * @throws ValidationError when `journalRetentionDays` is above the operator's maximum
     */
    async updateSettings(userId: string, changes: SettingsChanges, actor: Actor) {
      const days = changes.journalRetentionDays
      if (typeof days === 'number' && maxRetention !== null && days > maxRetention) {
        throw new ValidationError(`Journal entries can be kept for at most ${maxRetention} days here.`, [
          { in: 'body', field: 'journalRetentionDays', message: `At most ${maxRetention} (this service's maximum), or null to keep entries that long.`, code: 'too_big' },
        ])
      }
      const data = {
        ...(days === undefined ? {} : { journalRetentionDays: days }),
        ...(changes.timeZone === undefined ? {} : { timeZone: changes.timeZone }),
      }
      const row = await withTrail(
        prisma,
        actor,
        (tx) => tx.userSettings.upsert({ where: { userId }, create: { userId, ...data }, update: data }),
        () => ({ userId, action: 'update', resourceType: 'settings' }),
      )
      return settingsView(row)
    },
  }
}
