import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { AccountDataRegistry } from '../../lib/account-data.js'
import { currentPrincipal, currentUserId } from '../../lib/principal.js'
import { problemResponses } from '../../lib/problem.js'
import { UserSchema } from '../../lib/user.js'
import { createAccountService } from './account-service.js'

const MeSchema = UserSchema.extend({
  signIn: z.enum(['password', 'external']).describe('`external`: the user signs in through their app’s identity provider.'),
  identityProviders: z.array(z.string()).describe('Issuers of the external identities linked to this user.'),
  scopes: z.array(z.string()).describe('Scopes of the token used for this request.'),
}).meta({ id: 'Me' })

const ExportSchema = z
  .looseObject({
    exportedAt: z.iso.datetime(),
    user: UserSchema.extend({ identityProviders: z.array(z.object({ issuer: z.string(), linkedAt: z.iso.datetime() })) }),
    omittedSections: z.array(z.string()).describe('Sections left out because the token lacks their read scope.'),
  })
  .meta({
    id: 'AccountExport',
    description: 'Everything the user owns, as one JSON document (GDPR Art. 15/20). One member per feature, e.g. `assessments`, `journalEntries`.',
  })

/** The signed-in user's own account: who am I, everything about me, and forget me. */
export const accountRoutes: FastifyPluginAsyncZod<{ registry: AccountDataRegistry }> = async (app, { registry }) => {
  const account = createAccountService({ prisma: app.db.prisma, registry })

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
    async (request) => account.me(currentUserId(request), currentPrincipal(request).scopes),
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
      return account.export(currentUserId(request), currentPrincipal(request).scopes)
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
          'Irreversible. The account, its sessions, assessments and journal are deleted in one transaction; every Therapath token of the user stops working at once. ' +
          "For a user who signs in through an app's identity provider, their next token from that provider is a first sight again: it gets a new, empty account.",
        response: { 204: z.null().describe('Deleted'), ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      await account.delete(currentUserId(request))
      return reply.status(204).send(null)
    },
  )
}
