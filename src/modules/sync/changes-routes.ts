import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import fp from 'fastify-plugin'
import type { Config } from '../../config.js'
import { repeatWhileOpen } from '../../lib/periodic.js'
import { problemResponses } from '../../lib/problem.js'
import type { RouteAuth } from '../../lib/principal.js'
import { type ChangesFeed, createChangesFeed } from './changes-feed.js'
import { ChangePageSchema, ChangesQuerySchema } from './sync-schemas.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The directory's change log: the feed, and its retention on demand (operators, tests). */
    directoryChanges: {
      feed: ChangesFeed
      /** Deletes events past DIRECTORY_CHANGES_RETENTION_DAYS (by the clock); returns how many. */
      prune(): Promise<number>
    }
  }
}

export interface ChangesOptions {
  config: Pick<Config, 'DIRECTORY_CHANGES_RETENTION_DAYS' | 'RETENTION_SWEEP_INTERVAL_MINUTES'>
  clock?: { now(): Date } | undefined
}

const READ: RouteAuth = { scope: 'directory:read', principal: 'any' }

const changesPlugin: FastifyPluginAsyncZod<ChangesOptions> = async (app, { config, clock = { now: () => new Date() } }) => {
  const feed = createChangesFeed({ db: app.db })
  const prune = () => feed.prune(new Date(clock.now().getTime() - config.DIRECTORY_CHANGES_RETENTION_DAYS * 86_400_000))
  app.decorate('directoryChanges', { feed, prune })

  // Retention on the sweep's schedule. Deleting is idempotent and remembers the highest position deleted
  // with GREATEST, so instances need not take turns.
  const minutes = config.RETENTION_SWEEP_INTERVAL_MINUTES
  if (minutes > 0) {
    repeatWhileOpen(
      app,
      minutes * 60_000,
      async () => {
        const events = await prune()
        if (events > 0) app.log.info({ events }, 'directory change log: events past retention deleted')
      },
      'directory change log: retention failed; the next round retries',
    )
  }

  app.get(
    '/v1/therapists/changes',
    {
      config: { auth: READ },
      schema: {
        tags: ['directory'],
        operationId: 'listTherapistChanges',
        summary: 'Directory change feed',
        description:
          'Every therapist created, changed (with the changed fields) or removed, in commit order: ids and what changed, not profiles (fetch those when needed). ' +
          'Pass `page.nextCursor` back as `after`; it survives restarts and never skips an event. A first sync starts with `after=now`, then pages through ' +
          '`GET /v1/therapists`, then follows the feed from that position. A position older than the retention ' +
          '(DIRECTORY_CHANGES_RETENTION_DAYS, 30 days by default) is a 410 `changes_expired`: re-sync.',
        querystring: ChangesQuerySchema,
        response: { 200: ChangePageSchema, ...problemResponses(400, 410) },
      },
    },
    async (request) => feed.page(request.query.after, request.query.limit),
  )
}

/**
 * Directory sync by pull: `GET /v1/therapists/changes`, over the change log that the therapist write
 * triggers append to (changes-feed.ts). Not encapsulated, so `app.directoryChanges` reaches the webhooks
 * module and tests.
 */
export const changesRoutes = fp(changesPlugin, { name: 'directory-changes', dependencies: ['database'] })
