import type { FastifyRequest } from 'fastify'
import { type FastifyPluginAsyncZod, hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Config } from '../../config.js'
import type { AccountDataRegistry } from '../../lib/account-data.js'
import { actorOf } from '../../lib/access-trail.js'
import { currentUserId } from '../../lib/principal.js'
import { problemResponses } from '../../lib/problem.js'
import { replayById } from '../../plugins/idempotency/idempotency-plugin.js'
import type { ProblemParts } from '../../plugins/error-handler.js'
import {
  AssessmentListQuerySchema,
  AssessmentPageSchema,
  AssessmentParamsSchema,
  AssessmentSchema,
  CreateAssessmentSchema,
  FhirQuestionnaireResponseSchema,
  FhirQuestionnaireSchema,
  InstrumentListQuerySchema,
  InstrumentPageSchema,
  InstrumentParamsSchema,
  InstrumentSchema,
  InstrumentVersionQuerySchema,
  ProgressQuerySchema,
  ProgressSchema,
} from './assessments-schemas.js'
import { createAssessmentsService, createInstrumentsService } from './assessments-service.js'
import { FHIR_JSON } from './fhir.js'
import { createInstrumentCatalog } from './instrument-catalog.js'
import type { InstrumentDefinition } from './instrument-schema.js'
import { BUILT_IN_INSTRUMENTS } from './instruments/index.js'
import { RECOMMENDATION_RULES, type RecommendationRule } from './recommendation-rules.js'

export interface AssessmentsOptions {
  config: Config
  registry: AccountDataRegistry
  /** The instruments on offer; defaults to the built-in data files. */
  instruments?: readonly InstrumentDefinition[]
  /** Result → directory rules; defaults to recommendation-rules.ts. */
  rules?: readonly RecommendationRule[]
}

const fhirResponse = (schema: z.ZodType, description: string) => ({ description, content: { [FHIR_JSON]: { schema } } })

/**
 * Self-assessments: instruments (public content, any valid token), and the user's own results,
 * which only they ever see. Instrument reads need a token but no scope: the wording is free to
 * reproduce, and a token lets rate limits count per app or user rather than per IP.
 */
export const assessmentsRoutes: FastifyPluginAsyncZod<AssessmentsOptions> = async (app, opts) => {
  const catalog = createInstrumentCatalog({ prisma: app.db.prisma, definitions: opts.instruments ?? BUILT_IN_INSTRUMENTS, log: app.log })
  const instruments = createInstrumentsService({ catalog, publicUrl: opts.config.PUBLIC_URL })
  const assessments = createAssessmentsService({
    prisma: app.db.prisma,
    catalog,
    rules: opts.rules ?? RECOMMENDATION_RULES,
    resources: opts.config.CRISIS_RESOURCES,
    publicUrl: opts.config.PUBLIC_URL,
  })
  opts.registry.add({
    name: 'assessments',
    scope: 'assessments:read',
    export: (userId) => assessments.exportAll(userId),
    schema: z.array(AssessmentSchema),
    description: 'Every assessment result, newest first (needs `assessments:read`).',
  })
  opts.registry.addLabeler('assessment', (userId, ids) => assessments.labels(userId, ids))

  /**
   * A submission the route's schema refuses (a value sent as a string, a stray key, a bad `takenAt`,
   * an invalid header) never reaches the service, yet its answers may still call for crisis resources:
   * the error handler lets this run the safety rules over whatever answers the raw body lets us read
   * and, when they alert, add the safety block to the 400. Validation comes before the idempotency
   * hook, so a refused body claims no key. Every other problem is left as it is.
   */
  async function withSafetyBlock(problem: ProblemParts, error: unknown, request: FastifyRequest): Promise<ProblemParts> {
    if (!hasZodFastifySchemaValidationErrors(error)) return problem
    const safety = await assessments.safetyOfRejected(request.body)
    return safety.alert ? { ...problem, extras: { ...problem.extras, safety } } : problem
  }

  const instrumentAuth = { auth: { principal: 'any' as const } }
  const tags = ['assessments']

  app.get(
    '/v1/instruments',
    {
      config: instrumentAuth,
      schema: {
        tags,
        operationId: 'listInstruments',
        summary: 'The self-assessment instruments on offer',
        description: 'Current version of each instrument, ordered by id. Fetch one for its items, answer options, scoring rule and result bands.',
        querystring: InstrumentListQuerySchema,
        response: { 200: InstrumentPageSchema, ...problemResponses(400) },
      },
    },
    async (request) => instruments.list(request.query),
  )

  app.get(
    '/v1/instruments/:id',
    {
      config: instrumentAuth,
      schema: {
        tags,
        operationId: 'getInstrument',
        summary: 'An instrument: items, answer options, scoring, bands, safety rules',
        description:
          'Everything an app needs to show the instrument and explain its result: wording, answer options and their values, the scoring rule, ' +
          'result bands with interpretations, safety rules, LOINC codes, source and attribution. Pass `version` to read the version an older result names.',
        params: InstrumentParamsSchema,
        querystring: InstrumentVersionQuerySchema,
        response: { 200: InstrumentSchema, ...problemResponses(400, 404) },
      },
    },
    async (request) => instruments.get(request.params.id, request.query.version),
  )

  app.get(
    '/v1/instruments/:id/fhir',
    {
      config: instrumentAuth,
      schema: {
        tags,
        operationId: 'getInstrumentFhir',
        summary: 'An instrument as a FHIR R4 Questionnaire',
        description: 'The instrument as a FHIR R4 `Questionnaire` (`application/fhir+json`), with LOINC codes where they exist and each option’s points as `ordinalValue`.',
        params: InstrumentParamsSchema,
        querystring: InstrumentVersionQuerySchema,
        response: { 200: fhirResponse(FhirQuestionnaireSchema, 'FHIR R4 Questionnaire'), ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => reply.type(FHIR_JSON).send(await instruments.fhir(request.params.id, request.query.version)),
  )

  app.post(
    '/v1/assessments',
    {
      config: {
        auth: { scope: 'assessments:write' },
        // The idempotency table keeps the new result's id only, never the answers: a retry reads the
        // result again, so one deleted since answers 404 instead of coming back from a copy.
        idempotent: replayById(
          (request, id) => assessments.get(currentUserId(request), id, actorOf(request)),
          (id) => `/v1/assessments/${id}`,
        ),
        enrichProblem: withSafetyBlock,
      },
      schema: {
        tags,
        operationId: 'createAssessment',
        summary: 'Submit a completed instrument; the server scores it',
        description:
          'Validates the answers against the instrument (every required item answered once, each value one of its options; a 400 names each bad item), ' +
          'then computes the score, band and interpretation with the current version of the instrument (or `instrumentVersion`), and stores the result with that ' +
          'version. The response always has a `safety` block: when any answer signals risk (e.g. PHQ-9 item 9 above 0, whatever the total) it has `alert: true` ' +
          'and crisis resources, which an app must show. Any 400 for the submission (an invalid option, a value sent as a string such as `"3"`, a stray key, ' +
          'a malformed `takenAt`) carries the safety block too when the answers it could read call for it. ' +
          'Send an `Idempotency-Key` to make retries safe: a retry gets the result as stored (404 once it was deleted), and only its id is kept with the key.',
        body: CreateAssessmentSchema,
        response: { 201: AssessmentSchema, ...problemResponses(400) },
      },
    },
    async (request, reply) => {
      const assessment = await assessments.create(currentUserId(request), request.body, actorOf(request))
      request.log.info({ assessmentId: assessment.id }, 'assessment created')
      return reply.status(201).header('location', `/v1/assessments/${assessment.id}`).send(assessment)
    },
  )

  app.get(
    '/v1/assessments',
    {
      config: { auth: { scope: 'assessments:read' } },
      schema: {
        tags,
        operationId: 'listAssessments',
        summary: 'The user’s results, newest first',
        description:
          'Filter by instrument and by when they were taken (`from`, `to`: both inclusive; a date is the whole day in `tz`). ' +
          'Cursor-paginated; pages stay stable while results are added.',
        querystring: AssessmentListQuerySchema,
        response: { 200: AssessmentPageSchema, ...problemResponses(400) },
      },
    },
    async (request) => assessments.list(currentUserId(request), request.query, actorOf(request)),
  )

  app.get(
    '/v1/assessments/progress',
    {
      config: { auth: { scope: 'assessments:read' } },
      schema: {
        tags,
        operationId: 'getAssessmentProgress',
        summary: 'Progress on one instrument over time',
        description:
          'The user’s scores in time order, the change since the first and since the previous result, whether each change is clinically meaningful ' +
          '(PHQ-9: 5 points; GAD-7: 4 points), and the days since the last result with whether it is time to reassess.',
        querystring: ProgressQuerySchema,
        response: { 200: ProgressSchema, ...problemResponses(400) },
      },
    },
    async (request) => assessments.progress(currentUserId(request), request.query.instrumentId, actorOf(request)),
  )

  app.get(
    '/v1/assessments/:id',
    {
      config: { auth: { scope: 'assessments:read' } },
      schema: {
        tags,
        operationId: 'getAssessment',
        summary: 'One result',
        description: 'As it was scored, with the wording of the instrument version it was scored with. Another user’s result answers 404.',
        params: AssessmentParamsSchema,
        response: { 200: AssessmentSchema, ...problemResponses(400, 404) },
      },
    },
    async (request) => assessments.get(currentUserId(request), request.params.id, actorOf(request)),
  )

  app.get(
    '/v1/assessments/:id/fhir',
    {
      config: { auth: { scope: 'assessments:read' } },
      schema: {
        tags,
        operationId: 'getAssessmentFhir',
        summary: 'One result as a FHIR R4 QuestionnaireResponse',
        description: 'The answers and total score as a FHIR R4 `QuestionnaireResponse` (`application/fhir+json`) referring to the Questionnaire version answered.',
        params: AssessmentParamsSchema,
        response: { 200: fhirResponse(FhirQuestionnaireResponseSchema, 'FHIR R4 QuestionnaireResponse'), ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => reply.type(FHIR_JSON).send(await assessments.fhir(currentUserId(request), request.params.id, actorOf(request))),
  )

  app.delete(
    '/v1/assessments/:id',
    {
      config: { auth: { scope: 'assessments:write' } },
      schema: {
        tags,
        operationId: 'deleteAssessment',
        summary: 'Delete one result',
        description: 'Permanently. Another user’s result answers 404.',
        params: AssessmentParamsSchema,
        response: { 204: z.null().describe('Deleted'), ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      await assessments.delete(currentUserId(request), request.params.id, actorOf(request))
      return reply.status(204).send(null)
    },
  )
}
