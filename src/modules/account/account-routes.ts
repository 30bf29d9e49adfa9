import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Config } from '../../config.js'
import { actorOf } from '../../lib/access-trail.js'
import type { AccountDataRegistry, AccountDataSection } from '../../lib/account-data.js'
import { TimeZoneNameSchema } from '../../lib/date-range.js'
import { currentPrincipal, currentUserId } from '../../lib/principal.js'
import { problemResponses } from '../../lib/problem.js'
import { UserSchema } from '../../lib/user.js'
import { AccessLogPageSchema, AccessLogQuerySchema, AccessRecordSchema, createAccessLog } from './access-log.js'
import { createAccountService } from './account-service.js'

const RETENTION_DAYS_MAX = 36_500

const SettingsSchema = z
  .object({
    journalRetentionDays: z
      .number()
      .int()
      .nullable()
      .describe('Journal entries are deleted for good once they are older than this many days; null keeps them (up to the service’s maximum, if it has one).'),
    timeZone: z.string().describe('IANA time zone whose calendar days retention counts in. Default UTC.'),
    maxJournalRetentionDays: z.number().int().nullable().describe('The longest this service keeps journal entries (its operator’s setting); null: no maximum.'),
    effectiveJournalRetentionDays: z
      .number()
      .int()
      .nullable()
      .describe('What the retention sweep applies: your setting, capped by the maximum; null when entries are kept.'),
  })
  .meta({
    id: 'Settings',
    description: 'The user’s own settings.',
    example: { journalRetentionDays: 90, timeZone: 'Europe/Berlin', maxJournalRetentionDays: null, effectiveJournalRetentionDays: 90 },
  })

const SettingsChangesSchema = z
  .strictObject({
    journalRetentionDays: z
      .number()
      .int()
      .min(1)
      .max(RETENTION_DAYS_MAX)
      .nullable()
      .optional()
      .describe(
        'Keep journal entries this many days, then delete them for good (an entry goes once both the day it is about and the day it was written are that many whole days back); null keeps them.',
      ),
    timeZone: TimeZoneNameSchema.optional().describe('IANA time zone whose calendar days retention counts in.'),
  })
  .refine((value) => value.journalRetentionDays !== undefined || value.timeZone !== undefined, 'Send at least one setting to change.')
  .meta({ id: 'SettingsChanges', example: { journalRetentionDays: 90, timeZone: 'Europe/Berlin' } })

const MeSchema = UserSchema.extend({
  signIn: z.enum(['password', 'external']).describe('`external`: the user signs in through their app’s identity provider.'),
  identityProviders: z.array(z.string()).describe('Issuers of the external identities linked to this user.'),
  scopes: z.array(z.string()).describe('Scopes of the token used for this request.'),
}).meta({
  id: 'Me',
  description: 'The signed-in user.',
  example: {
    id: '0b8e4c55-6e4a-4f3e-9a51-2f1d3c4b5a69',
    email: 'sam@example.com',
    displayName: 'Sam',
    createdAt: '2026-11-30T12:00:00.000Z',
    signIn: 'password',
    identityProviders: [],
    scopes: ['directory:read', 'assessments:read', 'assessments:write', 'journal:read', 'journal:write'],
  },
})

const ExportBaseSchema = z.object({
  exportedAt: z.iso.datetime().describe('When this export was made.'),
  user: UserSchema.extend({
    identityProviders: z.array(z.object({ issuer: z.string().describe('The identity provider.'), linkedAt: z.iso.datetime().describe('When it was first seen for this user.') })),
  }).describe('The account.'),
  omittedSections: z.array(z.string()).describe('Sections left out because the token lacks their read scope.'),
})

let exportSchemaMemo: { names: string; schema: z.ZodType } | undefined

/**
 * The export document: the account, and one typed member per section the features registered. Made
 * once per set of sections (a schema id may be registered once), after every feature has added its own.
 */
function exportSchema(sections: readonly AccountDataSection[]): z.ZodType {
  const names = sections.map((section) => section.name).join(',')
  if (exportSchemaMemo?.names === names) return exportSchemaMemo.schema
  const members = Object.fromEntries(sections.map((section) => [section.name, section.schema.optional().describe(section.description)]))
  const schema = ExportBaseSchema.extend(members).meta({
    id: 'AccountExport',
    description: 'Everything the user owns, as one JSON document (GDPR Art. 15/20): the account, then one member per kind of data.',
  })
  exportSchemaMemo = { names, schema }
  return schema
}

/** The signed-in user's own account: who am I, everything about me, and forget me. */
export const accountRoutes: FastifyPluginAsyncZod<{ registry: AccountDataRegistry; config: Config }> = async (app, { registry, config }) => {
  const account = createAccountService({ prisma: app.db.prisma, registry, config })
  const accessLog = createAccessLog({ prisma: app.db.prisma, registry, config })
  registry.add({
    name: 'accessLog',
    export: (userId) => accessLog.exportAll(userId),
    schema: z.array(AccessRecordSchema),
    description: 'Every record of who read or changed the user’s data, newest first.',
  })
  const ExportSchema = exportSchema(registry.sections())

  app.get(
    '',
    {
      config: { auth: {} },
      schema: {
        tags: ['account'],
        operationId: 'getMe',
        summary: 'The signed-in user',
        response: { 200: MeSchema, ...problemResponses(404) },
      },
    },
    async (request) => account.me(currentUserId(request), currentPrincipal(request).scopes, actorOf(request)),
  )

  app.get(
    '/export',
    {
      config: { auth: {} },
      schema: {
        tags: ['account'],
        operationId: 'exportMe',
        summary: 'Everything the user owns, as one JSON document',
        description: 'For data access and portability requests. Sections for features whose read scope the token lacks are omitted and listed in `omittedSections`.',
        response: { 200: ExportSchema, ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      reply.header('content-disposition', 'attachment; filename="therapath-export.json"')
      return account.export(currentUserId(request), currentPrincipal(request).scopes, actorOf(request))
    },
  )

  app.delete(
    '',
    {
      config: { auth: {} },
      schema: {
        tags: ['account'],
        operationId: 'deleteMe',
        summary: 'Delete the user and everything they own',
        description:
          'Irreversible. The account, its sessions, settings, assessments, journal and access log are deleted in one transaction; every Therapath token of the user stops working at once. ' +
          'One record of the deletion itself is kept, under a one-way hash of the user id (see the README, Privacy). ' +
          "For a user who signs in through an app's identity provider, their next token from that provider is a first sight again: it gets a new, empty account.",
        response: { 204: z.null().describe('Deleted'), ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      await account.delete(currentUserId(request), actorOf(request))
      return reply.status(204).send(null)
    },
  )

  app.get(
    '/access-log',
    {
      config: { auth: {} },
      schema: {
        tags: ['account'],
        operationId: 'getAccessLog',
        summary: 'Who read or changed the user’s data, newest first',
        description:
          'Every read, creation, change, export and deletion of the user’s account, assessments and journal — by the user, an app, an identity provider’s token, ' +
          'an operator’s command or automatic deletion — with when, who, what, the request id and a plain-words description. Never any content. ' +
          'Filter by `action` and `principal`. Reading the log is itself recorded. Also in `GET /v1/me/export` (`accessLog`).',
        querystring: AccessLogQuerySchema,
        response: { 200: AccessLogPageSchema, ...problemResponses(400) },
      },
    },
    async (request) => accessLog.list(currentUserId(request), request.query, actorOf(request)),
  )

  app.get(
    '/settings',
    {
      config: { auth: {} },
      schema: {
        tags: ['account'],
        operationId: 'getSettings',
        summary: 'The user’s settings',
        description: 'Journal retention (and the time zone it counts days in), with the service’s maximum and what applies.',
        response: { 200: SettingsSchema },
      },
    },
    async (request) => account.settings(currentUserId(request), actorOf(request)),
  )

  app.patch(
    '/settings',
    {
      config: { auth: {} },
      schema: {
        tags: ['account'],
        operationId: 'updateSettings',
        summary: 'Change the user’s settings',
        description:
          'Send only what changes. `journalRetentionDays`: entries older than that are deleted for good by a sweep that runs about hourly, and each deletion is in ' +
          'the access log; null keeps entries (up to the service’s maximum). A value above the maximum is a 400 naming it.',
        body: SettingsChangesSchema,
        response: { 200: SettingsSchema, ...problemResponses(400) },
      },
    },
    async (request) => account.updateSettings(currentUserId(request), request.body, actorOf(request)),
  )
}
