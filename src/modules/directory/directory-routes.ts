import { Readable } from 'node:stream'
import { Counter, Gauge } from 'prom-client'
import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Config } from '../../config.js'
import { AppError, BadRequestError } from '../../lib/errors.js'
import { contentEtag, IfMatchHeadersSchema, ifMatchHolds } from '../../lib/conditional.js'
import { problemResponses } from '../../lib/problem.js'
import { MERGE_PATCH } from '../../plugins/conditional.js'
import { replayById } from '../../plugins/idempotency/idempotency-plugin.js'
import type { RouteAuth } from '../../lib/principal.js'
import {
  ImportReportSchema,
  TermListSchema,
  TherapistIdParamsSchema,
  TherapistInputSchema,
  TherapistPatchSchema,
  TherapistSchema,
  TherapistSearchQuerySchema,
  TherapistSearchResultSchema,
  VocabulariesSchema,
} from './directory-schemas.js'
import { createDirectoryService, type DirectoryService, type Precondition } from './directory-service.js'
import { IndexSync } from './index/index-sync.js'
import { HitFormatter } from './search/hits.js'
import { IMPORT_MAX_BYTES, IMPORT_MAX_LINE_BYTES, IMPORT_MAX_LINES } from './therapist-import.js'
import { loadVocabulary } from './vocabulary.js'
import type { VocabularyTerm } from './vocabulary.js'

/**
 * Search and profile bodies are built as JSON text by Postgres (directory-service.ts), so they are
 * sent as-is: Fastify does not run the response serializer on a string. The response schemas still
 * document them in OpenAPI, and the tests parse every body with them, so the SQL cannot drift from
 * the contract. Measured at 100k therapists, skipping the per-hit object decode and re-serialize was
 * what kept the API close to its SQL floor (docs/directory-query-plans.md).
 */
function sendJsonText<T>(reply: FastifyReply, json: string): T {
  void reply.type('application/json; charset=utf-8').send(json)
  return reply as unknown as T
}

/** Vocabularies change with releases, profiles with curation: apps may keep them a while and revalidate with `If-None-Match`. */
const VOCABULARY_CACHE = 'private, max-age=3600'
const PROFILE_CACHE = 'private, max-age=300'

/** The `If-Match` check a write makes against the profile's JSON as GET serves it, or none without the header. */
const ifMatch = (header: string | undefined): Precondition | undefined =>
  header === undefined ? undefined : (profileJson: string) => ifMatchHolds(header, contentEtag(profileJson))

const READ: RouteAuth = { scope: 'directory:read', principal: 'any' }
const WRITE: RouteAuth = { scope: 'directory:write', principal: 'any' }

const termOut = ({ slug, name, aliases, family, description }: VocabularyTerm) => ({ slug, name, aliases, family, description })

/** Read routes: `directory:read`, for end users' and integrator apps' tokens alike. */
const readRoutes: FastifyPluginAsyncZod<{ directory: DirectoryService }> = async (app, { directory }) => {
  app.get(
    '/v1/modalities',
    {
      config: { auth: READ, conditional: { cacheControl: VOCABULARY_CACHE } },
      schema: {
        tags: ['directory'],
        operationId: 'listModalities',
        summary: 'List therapy modalities',
        description:
          'The controlled vocabulary of therapy approaches (CBT, psychodynamic, attachment-based, …) with aliases and a plain-language description. ' +
          'Slugs, names and aliases are accepted in any case wherever a modality is given. The whole list is one page.',
        response: { 200: TermListSchema, ...problemResponses() },
      },
    },
    async () => ({ data: (await directory.terms('modality')).map(termOut), page: { nextCursor: null } }),
  )

  app.get(
    '/v1/specialties',
    {
      config: { auth: READ, conditional: { cacheControl: VOCABULARY_CACHE } },
      schema: {
        tags: ['directory'],
        operationId: 'listSpecialties',
        summary: 'List specialties',
        description: 'The issues therapists work with (relationship issues, codependency, boundaries, anxiety, trauma, …), with aliases and descriptions. The whole list is one page.',
        response: { 200: TermListSchema, ...problemResponses() },
      },
    },
    async () => ({ data: (await directory.terms('specialty')).map(termOut), page: { nextCursor: null } }),
  )

  app.get(
    '/v1/vocabularies',
    {
      config: { auth: READ, conditional: { cacheControl: VOCABULARY_CACHE } },
      schema: {
        tags: ['directory'],
        operationId: 'listVocabularies',
        summary: 'All directory vocabularies',
        description: 'Modalities, specialties, client focus, session formats and license types (with NUCC taxonomy codes) in one response.',
        response: { 200: VocabulariesSchema, ...problemResponses() },
      },
    },
    async () => {
      const vocabulary = await directory.vocabulary()
      return {
        modalities: vocabulary.list('modality').map(termOut),
        specialties: vocabulary.list('specialty').map(termOut),
        clientFocus: vocabulary.list('client_focus').map(termOut),
        formats: vocabulary.list('format').map(termOut),
        licenseTypes: vocabulary.list('license_type').map((term) => ({ ...termOut(term), nuccCode: term.nuccCode ?? '' })),
      }
    },
  )

  app.get(
    '/v1/therapists',
    {
      config: { auth: READ },
      schema: {
        tags: ['directory'],
        operationId: 'searchTherapists',
        summary: 'Search therapists',
        description:
          'Filter by approach, issue, place and practicalities; rank by text relevance, distance, name or fee. Each hit says why it matched, ' +
          'and `facets` counts what each filter value would give (disjunctive: a facet ignores its own filter). Unknown vocabulary values ' +
          'are a 400 that lists the valid ones. Cursor pages stay stable while therapists are added or edited.',
        querystring: TherapistSearchQuerySchema,
        response: { 200: TherapistSearchResultSchema, ...problemResponses(400) },
      },
    },
    async (request, reply) => sendJsonText(reply, await directory.search(request.query)),
  )

  app.get(
    '/v1/therapists/:id',
    {
      config: { auth: READ, conditional: { cacheControl: PROFILE_CACHE } },
      schema: {
        tags: ['directory'],
        operationId: 'getTherapist',
        summary: 'Get a therapist’s profile',
        description: 'The full profile: license (with NUCC code), approaches, specialties, offices with coordinates, languages, fees, insurance, and when availability was last verified.',
        params: TherapistIdParamsSchema,
        response: { 200: TherapistSchema, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => sendJsonText(reply, await directory.profileJson(request.params.id)),
  )
}

/** Curation routes: `directory:write`, which only integrator apps (curators) can hold. Kept apart from the reads on purpose. */
const curationRoutes: FastifyPluginAsyncZod<{ directory: DirectoryService; importDeadlineMs: number }> = async (app, { directory, importDeadlineMs }) => {
  app.post(
    '/v1/therapists',
    {
      config: {
        auth: WRITE,
        // A retry with the same key gets the therapist as it is now (404 once removed); the key belongs to the app.
        idempotent: replayById((_request, id) => directory.profile(id)),
      },
      schema: {
        tags: ['directory'],
        operationId: 'createTherapist',
        summary: 'Add a therapist',
        description:
          'Creates a listing. Vocabulary values accept slugs, names and aliases; offices without coordinates are placed at their ZIP code’s centroid. ' +
          'An `externalId` another therapist has is a 409 naming it in `therapistId`: `external_id_taken`, or `external_id_removed` when that therapist was removed ' +
          '(an import of the externalId restores it). Send an `Idempotency-Key` to make retries safe: a retry with the same key and body within 24 hours ' +
          'answers the first result (`Idempotent-Replayed: true`) and creates nothing.',
        body: TherapistInputSchema,
        response: { 201: TherapistSchema, ...problemResponses(400, 409) },
      },
    },
    async (request, reply) => {
      const therapist = await directory.create(request.body)
      return reply.status(201).header('location', `/v1/therapists/${therapist.id}`).send(therapist)
    },
  )

  app.patch(
    '/v1/therapists/:id',
    {
      config: { auth: WRITE, conditional: {} },
      schema: {
        tags: ['directory'],
        operationId: 'updateTherapist',
        summary: 'Change a therapist',
        description:
          'Changes the given fields (arrays and `offices` are replaced whole; `null` clears). Changing `acceptingNewClients` records the time as its last verification unless `acceptingNewClientsVerifiedAt` is given. ' +
          'Concurrent changes to other fields are kept: the change is merged into the therapist as it is when written (409 `concurrent_update` if other writes keep winning; retry). ' +
          'To change only the version you read, send its `ETag` as `If-Match`: another write in between makes it a 412 `precondition_failed` and nothing is written. ' +
          'Takes `application/json` or `application/merge-patch+json` (RFC 7396: the same document, `null` removes).',
        consumes: ['application/json', MERGE_PATCH],
        params: TherapistIdParamsSchema,
        headers: IfMatchHeadersSchema,
        body: TherapistPatchSchema,
        response: { 200: TherapistSchema, ...problemResponses(400, 404, 409, 412) },
      },
    },
    async (request, reply) => {
      await directory.patch(request.params.id, request.body, ifMatch(request.headers['if-match']))
      // The profile as GET serves it, byte for byte, so its ETag is the one a GET gives.
      return sendJsonText(reply, await directory.profileJson(request.params.id))
    },
  )

  app.delete(
    '/v1/therapists/:id',
    {
      config: { auth: WRITE },
      schema: {
        tags: ['directory'],
        operationId: 'deleteTherapist',
        summary: 'Remove a therapist',
        description:
          'Soft delete: the therapist disappears from search and profiles at once. Importing the same externalId again restores it. ' +
          'With `If-Match`, only if the profile is still the version named (else 412 `precondition_failed`).',
        params: TherapistIdParamsSchema,
        headers: IfMatchHeadersSchema,
        response: { 204: z.null().describe('Removed.'), ...problemResponses(400, 404, 412) },
      },
    },
    async (request, reply) => {
      await directory.remove(request.params.id, ifMatch(request.headers['if-match']))
      return reply.status(204).send(null)
    },
  )

  await app.register(importRoute, { directory, deadlineMs: importDeadlineMs })
}

/**
 * The NDJSON import, in a context of its own whose only body parser is NDJSON: any other media type
 * (JSON included) is answered 415 by Fastify before a byte of the body is read, and the body reaches
 * the handler as a stream, read line by line (import-lines.ts), never buffered whole.
 */
const emptyImport = () =>
  new BadRequestError('empty_import', 'The upload holds no lines: send one TherapistCreate JSON object per line (e.g. `--data-binary @examples/therapists.ndjson`).')

const importRoute: FastifyPluginAsyncZod<{ directory: DirectoryService; deadlineMs: number }> = async (app, { directory, deadlineMs }) => {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/x-ndjson', (request, payload, done) => {
    // A declared length over the limit is refused before reading (Fastify then closes the connection);
    // a body without one (chunked) is counted as it streams.
    const declared = Number(request.headers['content-length'])
    if (declared > IMPORT_MAX_BYTES) {
      done(new AppError(413, 'body_too_large', 'Content Too Large', `An import is at most ${IMPORT_MAX_BYTES} bytes; this one declares ${declared}. Nothing was read or written: split it into several imports.`))
      return
    }
    done(null, payload)
  })

  app.post(
    '/v1/therapists/import',
    {
      // Its own deadline: 50,000 lines take minutes, far past REQUEST_DEADLINE_MS.
      ...(deadlineMs > 0 ? { handlerTimeout: deadlineMs } : {}),
      config: { auth: WRITE },
      schema: {
        consumes: ['application/x-ndjson'],
        tags: ['directory'],
        operationId: 'importTherapists',
        summary: 'Import therapists (NDJSON)',
        description:
          `One TherapistCreate JSON object per line (\`application/x-ndjson\`), up to ${IMPORT_MAX_LINES} lines and 64 MiB (${IMPORT_MAX_BYTES} bytes), upserted by \`externalId\`. ` +
          `A line over ${IMPORT_MAX_LINE_BYTES / 1024} KiB is skipped unread (\`line_too_long\`). ` +
          'The report lists every line as created, updated, unchanged or rejected (with the reasons). Each line is written whole or not at all; ' +
          'lines are written in batches as they stream in, so a large upload runs in constant memory. ' +
          `A declared \`Content-Length\` over the limit is a 413 and nothing is written. Otherwise reading stops at line ${IMPORT_MAX_LINES + 1} or at the byte limit: ` +
          'the answer is still the report, of every line before that point (written as reported), with `summary.complete` false and a last entry ' +
          '(`line_limit` or `body_too_large`) naming the line where reading stopped. An upload without a single line is a 400 (`empty_import`).',
        body: z.unknown().meta({
          description: 'NDJSON: one TherapistCreate object per line.',
          example:
            '{"externalId":"ca-lmft-1001","name":"Rosa Delgado","license":{"type":"LMFT","state":"CA"},"formats":["telehealth"],"acceptingNewClients":true}\n' +
            '{"externalId":"ny-lcsw-1002","name":"Daniel Osei","license":{"type":"LCSW","state":"NY"},"formats":["telehealth"],"acceptingNewClients":false}\n',
        }),
        response: { 200: ImportReportSchema, ...problemResponses(400, 413, 415) },
      },
    },
    async (request, reply) => {
      if (!(request.body instanceof Readable)) throw emptyImport()
      const report = await directory.importNdjson(request.body)
      // Nothing was read, so nothing was written: an empty upload is a mistake (a wrong file name, say), not a success.
      if (report.summary.lines === 0) throw emptyImport()
      // Reading stopped early: the rest of the body is not read, so this connection cannot carry another request.
      if (!report.summary.complete) void reply.header('connection', 'close')
      return report
    },
  )
}

type DirectoryConfig = Pick<
  Config,
  'FACET_CACHE_SECONDS' | 'DIRECTORY_INDEX' | 'DIRECTORY_INDEX_MAX_MB' | 'DIRECTORY_INDEX_READY_WAIT_SECONDS' | 'DIRECTORY_CARD_CACHE_MB' | 'IMPORT_DEADLINE_MS'
>

/**
 * The directory module: one service shared by the read and the curation routes, and (DIRECTORY_INDEX=memory)
 * the in-process index it searches with, built in the background once the app is ready.
 */
export const directoryRoutes: FastifyPluginAsyncZod<{ config: DirectoryConfig }> = async (app, { config }) => {
  // Cards of pages are cached only beside the index, whose change feed keeps them coherent.
  const hitFormatter = new HitFormatter(app.db, config.DIRECTORY_INDEX === 'memory' ? config.DIRECTORY_CARD_CACHE_MB * 2 ** 20 : 0)
  const index =
    config.DIRECTORY_INDEX === 'memory'
      ? new IndexSync({
          db: app.db,
          vocabulary: () => loadVocabulary(app.db),
          log: app.log,
          maxBytes: config.DIRECTORY_INDEX_MAX_MB * 2 ** 20,
          onChange: (changed) => hitFormatter.forget(changed),
        })
      : undefined
  const searches = new Counter({
    name: 'therapath_directory_searches_total',
    help: 'Directory searches by how they were answered: the in-process index, or SQL alone (index off, being built or behind, or a phrase query)',
    labelNames: ['engine'] as const,
    registers: [app.metrics],
  })
  const directory = createDirectoryService({
    db: app.db,
    index,
    log: app.log,
    facetCacheMs: config.FACET_CACHE_SECONDS * 1000,
    onSearch: (engine) => searches.inc({ engine }),
    hitFormatter,
    reads: () => app.reads.reader(),
    staleReadMs: app.reads.staleReadMs,
  })
  // Changes made through other instances (or by an operator's SQL) reach this one's caches.
  app.changes((event) => {
    switch (event.kind) {
      case 'therapists':
        directory.forget('therapists')
        return
      case 'vocabulary':
        directory.forget('vocabulary')
        index?.rebuild()
        return
      case 'reset':
        directory.forget('all')
        return
      case 'client':
      case 'user':
        return
    }
  })
  if (index) {
    new Gauge({
      name: 'therapath_directory_index_therapists',
      help: 'Therapists in the directory index',
      registers: [app.metrics],
      collect() {
        this.set(index.status().therapists)
      },
    })
    new Gauge({
      name: 'therapath_directory_index_bytes',
      help: 'Memory the directory index holds',
      registers: [app.metrics],
      collect() {
        this.set(index.status().bytes)
      },
    })
    const startedAt = Date.now()
    app.readinessParts.set('directoryIndex', {
      check() {
        const status = index.status()
        const waited = Date.now() - startedAt >= config.DIRECTORY_INDEX_READY_WAIT_SECONDS * 1000
        return {
          // Until the first build ends (or the wait is over), searches would be SQL alone: slow facets at scale.
          ready: status.state !== 'building' || waited,
          detail: 'The directory index is being built.',
          report: { state: status.state, therapists: status.therapists, megabytes: Math.round(status.bytes / 2 ** 10) / 2 ** 10, builtInMs: status.builtInMs, ...(status.reason ? { reason: status.reason } : {}) },
        }
      },
    })
    app.addHook('onReady', async () => index.start())
    app.addHook('onClose', async () => index.close())
  }
  await app.register(readRoutes, { directory })
  await app.register(curationRoutes, { directory, importDeadlineMs: config.IMPORT_DEADLINE_MS })
}
