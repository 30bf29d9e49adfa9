import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { AccountDataRegistry } from '../../lib/account-data.js'
import { actorOf } from '../../lib/access-trail.js'
import type { CrisisResource } from '../../lib/crisis-resources.js'
import { SafetySchema } from '../../lib/safety.js'
import { currentUserId } from '../../lib/principal.js'
import { IfMatchHeadersSchema, ifMatchHolds, revisionEtag } from '../../lib/conditional.js'
import { problemResponses } from '../../lib/problem.js'
import { MERGE_PATCH } from '../../plugins/conditional.js'
import { replayById } from '../../plugins/idempotency/idempotency-plugin.js'
import type { JournalKeyring } from './journal-crypto.js'
import { createJournalInsights, type ScoreSeriesProvider } from './journal-insights.js'
import {
  CreateJournalEntrySchema,
  EntryParamsSchema,
  InsightsQuerySchema,
  JournalEntryPageSchema,
  JournalEntrySchema,
  JournalInsightsSchema,
  ListEntriesQuerySchema,
  UpdateJournalEntrySchema,
} from './journal-schemas.js'
import { createJournalService } from './journal-service.js'

export interface JournalRoutesOptions {
  keyring: JournalKeyring
  registry: AccountDataRegistry
  /** Crisis resources for the safety block of writes (CRISIS_RESOURCES). */
  resources: readonly CrisisResource[]
  /** The user's assessment scores, shown beside mood in insights; none without it. */
  scoreSeries?: ScoreSeriesProvider | undefined
}

const PRIVACY =
  'Entries are private: only their author can read them, and another user’s entry answers 404, never 403. ' +
  'Body, title and the conflict’s trigger, response note and outcome are encrypted at rest (AES-256-GCM).'

const SAFETY =
  'The text is screened in memory, before it is encrypted, for language of suicide or self-harm (a reviewed phrase list; see the README): when it has some, ' +
  '`safety.alert` is `true` with crisis resources an app must show, as for a PHQ-9 item 9 answer. Only a flag is stored, never the words; the write is never refused for it.'

const WrittenJournalEntrySchema = JournalEntrySchema.extend({ safety: SafetySchema }).meta({
  id: 'WrittenJournalEntry',
  description: 'The entry as written, with the `safety` block for its text.',
})

/** The `If-Match` check of a write against the entry's revision, or none without the header. */
const ifRevision = (header: string | undefined) => (header === undefined ? undefined : (revision: number) => ifMatchHolds(header, revisionEtag(revision)))

/** The private journal: `/v1/journal/entries` and `/v1/journal/insights`. */
export const journalRoutes: FastifyPluginAsyncZod<JournalRoutesOptions> = async (app, opts) => {
  const journal = createJournalService({ prisma: app.db.prisma, keyring: opts.keyring, resources: opts.resources, log: app.log })
  const insights = createJournalInsights({ db: app.db, trail: app.db.prisma, scoreSeries: opts.scoreSeries })

  opts.registry.add({
    name: 'journalEntries',
    scope: 'journal:read',
    export: (userId) => journal.exportAll(userId),
    schema: z.array(JournalEntrySchema),
    description: 'Every journal entry, decrypted, newest first (needs `journal:read`).',
  })
  opts.registry.addLabeler('journal_entry', (userId, ids) => journal.labels(userId, ids))

  app.post(
    '/entries',
    {
      config: {
        auth: { scope: 'journal:write' },
        // A retry gets the entry as it is now, read again: the idempotency table never holds its text.
        idempotent: replayById(
          (request, id) => journal.getWritten(currentUserId(request), id, actorOf(request)),
          (id) => `/v1/journal/entries/${id}`,
        ),
      },
      schema: {
        tags: ['journal'],
        operationId: 'createJournalEntry',
        summary: 'Write a journal entry',
        description:
          'Records what happened, the mood (1–10), emotions from the vocabulary, free tags and, optionally, a conflict: what set it off, how the user responded ' +
          '(from the vocabulary, plus their own words), what came of it and how intense it was. `occurredAt` defaults to now and cannot be in the future. ' +
          `Send an \`Idempotency-Key\` to make retries safe. ${PRIVACY} ${SAFETY}`,
        body: CreateJournalEntrySchema,
        response: { 201: WrittenJournalEntrySchema, ...problemResponses(400) },
      },
    },
    async (request, reply) => {
      const entry = await journal.create(currentUserId(request), request.body, actorOf(request))
      return reply.status(201).header('location', `/v1/journal/entries/${entry.id}`).send(entry)
    },
  )

  app.get(
    '/entries',
    {
      config: { auth: { scope: 'journal:read' } },
      schema: {
        tags: ['journal'],
        operationId: 'listJournalEntries',
        summary: "The user's journal entries, newest first",
        description:
          'Filters combine: a period (`from`, `to`), tags and emotions (entries with all of them), a mood range and conflict responses (any of them). ' +
          'Ordered by `occurredAt`, newest first; pages stay consistent while entries are added. Text cannot be searched: it is encrypted. ' +
          PRIVACY,
        querystring: ListEntriesQuerySchema,
        response: { 200: JournalEntryPageSchema, ...problemResponses(400) },
      },
    },
    async (request) => journal.list(currentUserId(request), request.query, actorOf(request)),
  )

  app.get(
    '/entries/:id',
    {
      // An ETag from the entry's revision; never cached (no-store): it is private.
      config: { auth: { scope: 'journal:read' }, conditional: {} },
      schema: {
        tags: ['journal'],
        operationId: 'getJournalEntry',
        summary: 'One journal entry',
        description: PRIVACY,
        params: EntryParamsSchema,
        response: { 200: JournalEntrySchema, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const { entry, revision } = await journal.getVersioned(currentUserId(request), request.params.id, actorOf(request))
      void reply.header('etag', revisionEtag(revision))
      return entry
    },
  )

  app.patch(
    '/entries/:id',
    {
      config: { auth: { scope: 'journal:write' }, conditional: {} },
      schema: {
        tags: ['journal'],
        operationId: 'updateJournalEntry',
        summary: 'Change a journal entry',
        description:
          'Send only the fields to change; each is validated as on create. `title: null` clears the title and `conflict: null` the conflict part; ' +
          `inside \`conflict\`, given parts replace, \`null\` clears a part and absent parts stay: the semantics of \`application/merge-patch+json\` (RFC 7396), which is accepted besides JSON. ` +
          `With \`If-Match\` (the entry's \`ETag\`), the change is made only to that version: another write in between makes it a 412 \`precondition_failed\`. ${PRIVACY} ${SAFETY}`,
        consumes: ['application/json', MERGE_PATCH],
        params: EntryParamsSchema,
        headers: IfMatchHeadersSchema,
        body: UpdateJournalEntrySchema,
        response: { 200: WrittenJournalEntrySchema, ...problemResponses(400, 404, 409, 412) },
      },
    },
    async (request, reply) => {
      const { entry, revision } = await journal.updateVersioned(currentUserId(request), request.params.id, request.body, actorOf(request), ifRevision(request.headers['if-match']))
      void reply.header('etag', revisionEtag(revision))
      return entry
    },
  )

  app.delete(
    '/entries/:id',
    {
      config: { auth: { scope: 'journal:write' } },
      schema: {
        tags: ['journal'],
        operationId: 'deleteJournalEntry',
        summary: 'Delete a journal entry',
        description: 'Irreversible: the entry and its ciphertext are gone at once. With `If-Match`, only if the entry is still that version (else 412 `precondition_failed`).',
        params: EntryParamsSchema,
        headers: IfMatchHeadersSchema,
        response: { 204: z.null().describe('Deleted'), ...problemResponses(400, 404, 412) },
      },
    },
    async (request, reply) => {
      await journal.delete(currentUserId(request), request.params.id, actorOf(request), ifRevision(request.headers['if-match']))
      return reply.status(204).send(null)
    },
  )

  app.get(
    '/insights',
    {
      config: { auth: { scope: 'journal:read' } },
      schema: {
        tags: ['journal'],
        operationId: 'getJournalInsights',
        summary: 'Progress: mood, emotions, conflict responses and streaks over time',
        description:
          'Per week or month in the user’s time zone (`tz`): mood (mean, min, max, count), conflicts with their mean intensity and how the user responded ' +
          '(each response counted, and grouped as `reactive` or `regulated`, so a shift from `withdrew` to `named-my-need` shows); over the period, the most ' +
          'frequent emotions and responses; the current and longest writing streaks; and the user’s self-assessment scores in the period, to draw beside mood. ' +
          'Computed from mood, emotions, conflict responses and intensity only: no entry text is decrypted to compute it.',
        querystring: InsightsQuerySchema,
        response: { 200: JournalInsightsSchema, ...problemResponses(400) },
      },
    },
    async (request) => insights.insights(currentUserId(request), request.query, actorOf(request)),
  )
}
