import { z } from 'zod'
import type { Config } from '../../config.js'
import type { AccessRecord, Prisma, PrismaClient } from '../../generated/prisma/client.js'
import { type Actor, PRINCIPAL_KINDS, TRAIL_ACTIONS, TRAIL_RESOURCES, withTrail } from '../../lib/access-trail.js'
import type { AccountDataRegistry, TrailLabel } from '../../lib/account-data.js'
import { TimeZoneSchema } from '../../lib/date-range.js'
import { localDate } from '../../lib/local-time.js'
import { decodeCursor, pageOf, PageQuerySchema, toPage } from '../../lib/pagination.js'

/**
 * `GET /v1/me/access-log`: the user's access trail, newest first, in plain words. Reading it is
 * itself recorded (after the page is read, in the same transaction, so a page never shows its own read).
 */

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.preprocess((value) => (typeof value === 'string' ? value.split(',').map((part) => part.trim()) : value), z.array(item).min(1).max(10)).optional()

export const AccessLogQuerySchema = PageQuerySchema.extend({
  action: oneOrMany(z.enum(TRAIL_ACTIONS)).describe('Only these actions (repeat the parameter or separate with commas): `read`, `create`, `update`, `delete`, `export`.'),
  principal: oneOrMany(z.enum(PRINCIPAL_KINDS)).describe(
    'Only records by these kinds of principal: `user` (you, with a Therapath token), `issuer` (you, through an app’s identity provider), `client` (an app), ' +
      '`operator` (an operator’s command), `system` (automatic deletion under your retention setting).',
  ),
  tz: TimeZoneSchema.describe('IANA time zone the dates in `description` are written in; default UTC.'),
})
export type AccessLogQuery = z.output<typeof AccessLogQuerySchema>

export const AccessRecordSchema = z
  .object({
    id: z.uuid(),
    at: z.iso.datetime(),
    action: z.enum(TRAIL_ACTIONS),
    resource: z.object({
      type: z.enum(TRAIL_RESOURCES).describe('`account`, `session` (a sign-in), `settings`, `access_log`, `assessment` (one result), `assessments` (a list or progress), `journal_entry`, `journal_entries` (a list, or what retention deleted), `journal_insights`.'),
      id: z.string().nullable().describe('The item; null for a collection.'),
    }),
    principal: z.object({
      kind: z.enum(PRINCIPAL_KINDS),
      id: z.string().nullable().describe('The issuer, app client id, command or task; null when it was you with a Therapath token.'),
      name: z.string().describe('Who, in words: “You”, the app’s or identity provider’s name, “An operator”, “Automatic deletion”.'),
    }),
    itemCount: z.number().int().nullable().describe('Items a list returned or a deletion removed.'),
    requestId: z.string().nullable().describe('The request’s id (`x-request-id`), to quote to support; null outside a request.'),
    description: z.string().describe('In plain words, e.g. “Acme Wellbeing read your journal entry of 3 Nov”.'),
  })
  .meta({ id: 'AccessRecord', description: 'One access to the user’s data: who, what, when. Never any content.' })
export type AccessRecordView = z.infer<typeof AccessRecordSchema>

export const AccessLogPageSchema = pageOf(AccessRecordSchema).meta({ id: 'AccessLogPage' })

const CursorSchema = z.object({ s: z.string().regex(/^\d{1,19}$/) })

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** "3 Nov", with the year when it is not the year of `at`. */
function dayOf(date: Date, at: Date, tz: string): string {
  const [year, month, day] = localDate(date, tz).split('-').map(Number) as [number, number, number]
  const sameYear = localDate(at, tz).startsWith(`${year}-`)
  return `${day} ${MONTHS[month - 1] ?? ''}${sameYear ? '' : ` ${year}`}`
}

type Deps = {
  prisma: Pick<PrismaClient, 'accessRecord' | 'apiClient' | '$transaction'>
  registry: AccountDataRegistry
  config: Pick<Config, 'AUTH_TRUSTED_ISSUERS'>
}

export function createAccessLog({ prisma, registry, config }: Deps) {
  const issuerNames = new Map(config.AUTH_TRUSTED_ISSUERS.map((issuer) => [issuer.issuer, issuer.name ?? hostOf(issuer.issuer)]))

  async function principalNames(records: readonly AccessRecord[]): Promise<Map<string, string>> {
    const clientIds = [...new Set(records.filter((r) => r.principalKind === 'client' && r.principalId !== null).map((r) => r.principalId as string))]
    const clients = clientIds.length === 0 ? [] : await prisma.apiClient.findMany({ where: { clientId: { in: clientIds } }, select: { clientId: true, name: true } })
    return new Map(clients.map((client) => [client.clientId, client.name]))
  }

  function whoOf(record: AccessRecord, appNames: Map<string, string>): string {
    const id = record.principalId ?? ''
    switch (record.principalKind) {
      case 'user':
        return 'You'
      case 'issuer':
        return issuerNames.get(id) ?? hostOf(id)
      case 'client':
        return appNames.get(id) ?? `An app (${id})`
      case 'operator':
        return `An operator (${id})`
      default:
        return 'Automatic deletion'
    }
  }

  /** The words for one record: "<who> <did what to what>". */
  function describe(record: AccessRecord, who: string, label: TrailLabel | undefined, tz: string): string {
    const of = (noun: string) => (label ? `your ${label.name ? `${label.name} ` : ''}${noun} of ${dayOf(label.date, record.at, tz)}` : `a ${noun} since deleted`)
    const count = record.itemCount
    switch (`${record.resourceType}:${record.action}`) {
      case 'account:create':
        return `${who} created your account`
      case 'account:read':
        return `${who} viewed your account`
      case 'account:export':
        return `${who} exported all your data`
      case 'account:delete':
        return `${who} deleted your account and all its data`
      case 'session:create':
        return `${who} signed in`
      case 'session:delete':
        return `${who} signed out`
      case 'settings:read':
        return `${who} viewed your settings`
      case 'settings:update':
        return `${who} changed your settings`
      case 'access_log:read':
        return `${who} viewed this access log`
      case 'assessment:create':
        return `${who} saved ${of('result')}`
      case 'assessment:read':
        return `${who} read ${of('result')}`
      case 'assessment:delete':
        return `${who} deleted a self-assessment result`
      case 'assessments:read':
        return count === null ? `${who} read your self-assessment progress` : `${who} listed your self-assessment results (${count})`
      case 'journal_entry:create':
        return `${who} wrote ${of('journal entry')}`
      case 'journal_entry:read':
        return `${who} read ${of('journal entry')}`
      case 'journal_entry:update':
        return record.principalKind === 'operator' ? `${who} re-encrypted ${of('journal entry')} with a new key` : `${who} changed ${of('journal entry')}`
      case 'journal_entry:delete':
        return `${who} deleted a journal entry`
      case 'journal_entries:read':
        return `${who} listed your journal entries (${count ?? 0})`
      case 'journal_entries:delete':
        return `${who} deleted ${count ?? 0} journal ${count === 1 ? 'entry' : 'entries'} older than your retention setting`
      case 'journal_insights:read':
        return `${who} read your journal insights`
      default:
        return `${who}: ${record.action} ${record.resourceType.replaceAll('_', ' ')}`
    }
  }

  /** Records in the API's shape, with their words. */
  async function toViews(userId: string, records: readonly AccessRecord[], tz: string): Promise<AccessRecordView[]> {
    const appNames = await principalNames(records)
    const labels = new Map<string, Map<string, TrailLabel>>()
    for (const type of new Set(records.filter((r) => r.resourceId !== null).map((r) => r.resourceType))) {
      const labeler = registry.labeler(type)
      if (!labeler) continue
      const ids = [...new Set(records.filter((r) => r.resourceType === type && r.resourceId !== null).map((r) => r.resourceId as string))]
      labels.set(type, await labeler(userId, ids))
    }
    return records.map((record) => {
      const who = whoOf(record, appNames)
      const label = record.resourceId === null ? undefined : labels.get(record.resourceType)?.get(record.resourceId)
      return {
        id: record.id,
        at: record.at.toISOString(),
        action: record.action as AccessRecordView['action'],
        resource: { type: record.resourceType as AccessRecordView['resource']['type'], id: record.resourceId },
        principal: { kind: record.principalKind as AccessRecordView['principal']['kind'], id: record.principalId, name: who },
        itemCount: record.itemCount,
        requestId: record.requestId,
        description: describe(record, who, label, tz),
      }
    })
  }

  return {
    /** One page of the user's trail, newest first; the read is recorded in the same transaction. */
    async list(userId: string, query: AccessLogQuery, actor: Actor) {
      const after = query.cursor === undefined ? undefined : BigInt(decodeCursor(query.cursor, CursorSchema).s)
      const where: Prisma.AccessRecordWhereInput = {
        chain: userId,
        action: query.action ? { in: query.action } : undefined,
        principalKind: query.principal ? { in: query.principal } : undefined,
        seq: after === undefined ? undefined : { lt: after },
      }
      const rows = await withTrail(
        prisma,
        actor,
        (tx) => tx.accessRecord.findMany({ where, orderBy: { seq: 'desc' }, take: query.limit + 1 }),
        () => ({ userId, action: 'read', resourceType: 'access_log' }),
      )
      const page = toPage(rows, query.limit, (row) => row, (row) => ({ s: row.seq.toString() }))
      return { data: await toViews(userId, page.data, query.tz), page: page.page }
    },

    /** The whole trail, newest first: the `accessLog` section of the export (which records the export itself first). */
    async exportAll(userId: string): Promise<AccessRecordView[]> {
      const rows = await prisma.accessRecord.findMany({ where: { chain: userId }, orderBy: { seq: 'desc' } })
      return toViews(userId, rows, 'UTC')
    },
  }
}

function hostOf(issuer: string): string {
  try {
    return new URL(issuer).host
  } catch {
    return issuer
  }
}
