import { z } from 'zod'
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js'
import { type Actor, recordNow, withTrail } from '../../lib/access-trail.js'
import type { CrisisResource } from '../../lib/crisis-resources.js'
import { CLOCK_SKEW_MS, resolveRange } from '../../lib/date-range.js'
import { AppError, type FieldError, NotFoundError, ValidationError } from '../../lib/errors.js'
import { cursorInstant, decodeCursor, toPage } from '../../lib/pagination.js'
import {
  AnswerInputSchema,
  type Assessment,
  type AssessmentListQuery,
  AssessmentResultSchema,
  type CreateAssessment,
  PROGRESS_MAX_POINTS,
  type SafetyBlock,
  type SafetyReason,
  SafetyReasonSchema,
} from './assessments-schemas.js'
import { toQuestionnaire, toQuestionnaireResponse } from './fhir.js'
import type { Catalog } from './instrument-catalog.js'
import type { InstrumentDefinition } from './instrument-schema.js'
import { type ProgressPoint, progressOf } from './progress.js'
import type { RecommendationRule } from './recommendation-rules.js'
import { recommend } from './recommendations.js'
import { readableAnswers, safetyBlock, safetyReasons, scoreAssessment } from './scoring.js'

/** What the `result` column holds: the result as computed at the time, with the version's wording. */
const StoredResultSchema = AssessmentResultSchema.omit({ score: true }).extend({ safetyReasons: z.array(SafetyReasonSchema) })
type StoredResult = z.infer<typeof StoredResultSchema>
const StoredAnswersSchema = z.array(AnswerInputSchema)

const CursorSchema = z.object({ t: cursorInstant(), id: z.uuid() })

/**
 * 400 `validation_failed` naming each bad item; when the answers it could read call for a safety
 * alert, the problem carries the safety block too, so even a rejected submission shows crisis resources.
 */
export class AssessmentValidationError extends AppError {
  constructor(errors: FieldError[], safety: SafetyBlock) {
    const count = errors.length
    super(400, 'validation_failed', 'Bad Request', `The assessment is invalid: ${count} problem${count === 1 ? '' : 's'}.`, {
      errors,
      ...(safety.alert ? { safety } : {}),
    })
  }
}

type AssessmentRow = Prisma.AssessmentGetPayload<object>

interface Deps {
  prisma: Pick<PrismaClient, 'assessment' | '$transaction'>
  catalog: Catalog
  rules: readonly RecommendationRule[]
  resources: readonly CrisisResource[]
  /** Base of canonical URLs in FHIR resources. */
  publicUrl: string
}

export function createAssessmentsService({ prisma, catalog, rules, resources, publicUrl }: Deps) {
  async function definitionOf(row: Pick<AssessmentRow, 'instrumentId' | 'instrumentVersion'>): Promise<InstrumentDefinition> {
    const definition = await catalog.version(row.instrumentId, row.instrumentVersion)
    // The foreign key to instrument_versions makes this unreachable.
    if (!definition) throw new Error(`instrument ${row.instrumentId}@${row.instrumentVersion} is missing`)
    return definition
  }

  /** The API view of a stored result: its version's wording, current crisis resources and recommendations. */
  function toAssessment(row: AssessmentRow, definition: InstrumentDefinition): Assessment {
    const answers = StoredAnswersSchema.parse(row.answers)
    const stored: StoredResult = StoredResultSchema.parse(row.result)
    return {
      id: row.id,
      instrument: { id: definition.id, version: definition.version, title: definition.title },
      takenAt: row.takenAt.toISOString(),
      createdAt: row.createdAt.toISOString(),
      answers: answers.map((answer) => {
        const item = definition.items.find((candidate) => candidate.id === answer.itemId)
        return {
          itemId: answer.itemId,
          question: item?.text ?? answer.itemId,
          value: answer.value,
          label: item?.options.find((option) => option.value === answer.value)?.label ?? String(answer.value),
        }
      }),
      result: {
        score: row.score,
        minScore: stored.minScore,
        maxScore: stored.maxScore,
        band: stored.band,
        endorsedItems: stored.endorsedItems,
        disclaimer: stored.disclaimer,
      },
      safety: safetyBlock(stored.safetyReasons, resources),
      recommendations: recommend(rules, { instrumentId: row.instrumentId, bandKey: row.bandKey, answers }),
    }
  }

  /** Rows in the API's shape; each version's definition is looked up once, however many rows share it. */
  async function toAssessments(rows: AssessmentRow[]): Promise<Assessment[]> {
    const definitions = new Map<string, Promise<InstrumentDefinition>>()
    return Promise.all(
      rows.map(async (row) => {
        const key = `${row.instrumentId}@${row.instrumentVersion}`
        const definition = definitions.get(key) ?? definitionOf(row)
        definitions.set(key, definition)
        return toAssessment(row, await definition)
      }),
    )
  }

  /**
   * The instruments whose safety rules apply to a rejected body: the one it names (the version it
   * names, else the current one), or, when it names none we know, every instrument on offer (item ids
   * tell them apart; a needless alert is far better than a missed one).
   */
  async function instrumentsFor(instrumentId: unknown, instrumentVersion: unknown): Promise<InstrumentDefinition[]> {
    if (typeof instrumentId === 'string' && instrumentId.length <= 64) {
      const id = instrumentId.trim().toLowerCase()
      const version = typeof instrumentVersion === 'number' ? instrumentVersion : typeof instrumentVersion === 'string' ? Number(instrumentVersion) : Number.NaN
      const named = (Number.isInteger(version) && version >= 1 ? await catalog.version(id, version) : undefined) ?? (await catalog.current(id))
      if (named) return [named]
    }
    return catalog.list()
  }

  /** The safety block for a submission that was rejected, from whatever answers it lets us read. */
  async function safetyOfRejected(body: unknown): Promise<SafetyBlock> {
    const raw = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}
    const answers = readableAnswers(raw.answers)
    if (answers.length === 0) return safetyBlock([], resources)
    const reasons = new Map<string, SafetyReason>()
    for (const definition of await instrumentsFor(raw.instrumentId, raw.instrumentVersion)) {
      for (const reason of safetyReasons(definition, answers)) reasons.set(`${reason.ruleId}@${reason.itemId}`, reason)
    }
    return safetyBlock([...reasons.values()], resources)
  }

  /** The user's result, read and recorded on the access trail in one transaction. */
  async function findOwn(userId: string, id: string, actor: Actor): Promise<AssessmentRow> {
    return withTrail(
      prisma,
      actor,
      async (tx) => {
        // Ownership is part of the query: another user's assessment is simply not found (and nothing is recorded).
        const row = await tx.assessment.findFirst({ where: { id, userId } })
        if (!row) throw new NotFoundError('assessment', id)
        return row
      },
      () => ({ userId, action: 'read', resourceType: 'assessment', resourceId: id }),
    )
  }

  return {
    safetyOfRejected,

    /**
     * Validates, scores and stores a completed instrument.
     * @throws AssessmentValidationError naming each bad item (with the safety block when it alerts)
     */
    async create(userId: string, input: CreateAssessment, actor: Actor, now = new Date()): Promise<Assessment> {
      const definition =
        input.instrumentVersion === undefined ? await catalog.current(input.instrumentId) : await catalog.version(input.instrumentId, input.instrumentVersion)
      if (!definition) {
        const field = input.instrumentVersion === undefined || !(await catalog.latestStored(input.instrumentId)) ? 'instrumentId' : 'instrumentVersion'
        const error: FieldError = {
          in: 'body',
          field,
          message: `No instrument ${input.instrumentId}${field === 'instrumentVersion' ? ` version ${input.instrumentVersion}` : ''}.`,
          code: 'unknown_instrument',
        }
        throw new AssessmentValidationError([error], await safetyOfRejected(input))
      }

      const outcome = scoreAssessment(definition, input.answers, resources)
      const errors = outcome.ok ? [] : [...outcome.errors]
      const takenAt = input.takenAt === undefined ? now : new Date(input.takenAt)
      if (takenAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
        errors.push({ in: 'body', field: 'takenAt', message: 'takenAt must not be in the future.', code: 'in_future' })
      }
      if (!outcome.ok || errors.length > 0) throw new AssessmentValidationError(errors, outcome.safety)

      const { scored } = outcome
      const result: StoredResult = {
        minScore: scored.minScore,
        maxScore: scored.maxScore,
        band: scored.band,
        endorsedItems: scored.endorsedItems,
        disclaimer: scored.disclaimer,
        safetyReasons: outcome.safety.reasons,
      }
      const row = await withTrail(
        prisma,
        actor,
        (tx) =>
          tx.assessment.create({
            data: {
              userId,
              instrumentId: definition.id,
              instrumentVersion: definition.version,
              answers: scored.answers,
              score: scored.score,
              bandKey: scored.band.key,
              result: result,
              safetyAlert: outcome.safety.alert,
              takenAt,
            },
          }),
        (created) => ({ userId, action: 'create', resourceType: 'assessment', resourceId: created.id }),
      )
      return toAssessment(row, definition)
    },

    async get(userId: string, id: string, actor: Actor): Promise<Assessment> {
      const row = await findOwn(userId, id, actor)
      return toAssessment(row, await definitionOf(row))
    },

    /**
     * The user's results, newest first, by keyset on (takenAt, id): stable while results are added.
     * @throws ValidationError when `from` is after `to`
     */
    async list(userId: string, query: AssessmentListQuery, actor: Actor) {
      const { from, to } = resolveRange(query.from, query.to, query.tz)
      const and: Prisma.AssessmentWhereInput[] = [{ userId }]
      if (query.instrumentId) and.push({ instrumentId: query.instrumentId })
      if (from || to) and.push({ takenAt: { gte: from, lte: to } })
      if (query.cursor) {
        const after = decodeCursor(query.cursor, CursorSchema)
        const t = new Date(after.t)
        and.push({ OR: [{ takenAt: { lt: t } }, { takenAt: t, id: { lt: after.id } }] })
      }
      const rows = await withTrail(
        prisma,
        actor,
        (tx) => tx.assessment.findMany({ where: { AND: and }, orderBy: [{ takenAt: 'desc' }, { id: 'desc' }], take: query.limit + 1 }),
        (found) => ({ userId, action: 'read', resourceType: 'assessments', itemCount: Math.min(found.length, query.limit) }),
      )
      const { data, page } = toPage(rows, query.limit, (row) => row, (row) => ({ t: row.takenAt.toISOString(), id: row.id }))
      return { data: await toAssessments(data), page }
    },

    async delete(userId: string, id: string, actor: Actor): Promise<void> {
      await withTrail(
        prisma,
        actor,
        async (tx) => {
          const deleted = await tx.assessment.deleteMany({ where: { id, userId } })
          if (deleted.count === 0) throw new NotFoundError('assessment', id)
        },
        () => ({ userId, action: 'delete', resourceType: 'assessment', resourceId: id }),
      )
    },

    /** The series for one instrument, oldest first, with the changes and days since the last result. */
    async progress(userId: string, instrumentId: string, actor: Actor, now = new Date()) {
      const definition = await catalog.latestStored(instrumentId)
      if (!definition) {
        throw new ValidationError('The request is invalid: 1 problem in the query.', [
          { in: 'query', field: 'instrumentId', message: `No instrument ${instrumentId}.`, code: 'unknown_instrument' },
        ])
      }
      // Two queries: the record commits first, so no score is read without it.
      await recordNow(prisma, actor, { userId, action: 'read', resourceType: 'assessments' })
      const select = { id: true, takenAt: true, score: true, instrumentVersion: true, result: true } as const
      const latest = await prisma.assessment.findMany({
        where: { userId, instrumentId },
        orderBy: [{ takenAt: 'desc' }, { id: 'desc' }],
        take: PROGRESS_MAX_POINTS,
        select,
      })
      let rows = latest.reverse()
      if (rows.length === PROGRESS_MAX_POINTS) {
        // Possibly truncated: keep the very first result, so "change since the first" stays true.
        const first = await prisma.assessment.findFirst({ where: { userId, instrumentId }, orderBy: [{ takenAt: 'asc' }, { id: 'asc' }], select })
        if (first && first.id !== rows[0]?.id) rows = [first, ...rows.slice(1)]
      }
      const points: ProgressPoint[] = rows.map((row) => {
        const { band } = StoredResultSchema.parse(row.result)
        return { assessmentId: row.id, takenAt: row.takenAt, score: row.score, band: { key: band.key, label: band.label }, instrumentVersion: row.instrumentVersion }
      })
      return progressOf(definition, points, now)
    },

    /** The result as a FHIR R4 QuestionnaireResponse. */
    async fhir(userId: string, id: string, actor: Actor) {
      const row = await findOwn(userId, id, actor)
      const definition = await definitionOf(row)
      return toQuestionnaireResponse(
        definition,
        { id: row.id, takenAt: row.takenAt, answers: StoredAnswersSchema.parse(row.answers), score: row.score },
        publicUrl,
      )
    },

    /** The access log's words for results: the instrument's short title and the day it was taken, never an answer or score. */
    async labels(userId: string, ids: readonly string[]) {
      const rows = await prisma.assessment.findMany({
        where: { userId, id: { in: [...ids] } },
        select: { id: true, takenAt: true, instrumentId: true, instrumentVersion: true },
      })
      return new Map(
        await Promise.all(
          rows.map(async (row) => {
            const definition = await catalog.version(row.instrumentId, row.instrumentVersion)
            return [row.id, { name: definition?.shortTitle ?? definition?.title ?? row.instrumentId, date: row.takenAt }] as const
          }),
        ),
      )
    },

    /** Everything for the account export, newest first. */
    async exportAll(userId: string): Promise<Assessment[]> {
      return toAssessments(await prisma.assessment.findMany({ where: { userId }, orderBy: [{ takenAt: 'desc' }, { id: 'desc' }] }))
    },
  }
}

/** Instrument reads: the catalog, in the API's and FHIR's shapes. */
export function createInstrumentsService({ catalog, publicUrl }: { catalog: Catalog; publicUrl: string }) {
  async function find(id: string, version?: number): Promise<InstrumentDefinition> {
    const definition = version === undefined ? await catalog.current(id) : await catalog.version(id, version)
    if (!definition) throw new NotFoundError(version === undefined ? 'instrument' : `version ${version} of instrument`, id)
    return definition
  }
  return {
    async list(query: { limit: number; cursor?: string }) {
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, z.object({ id: z.string() })).id
      const all = (await catalog.list()).filter((instrument) => after === undefined || instrument.id > after)
      return toPage(
        all.slice(0, query.limit + 1),
        query.limit,
        (instrument) => ({
          id: instrument.id,
          version: instrument.version,
          title: instrument.title,
          shortTitle: instrument.shortTitle,
          kind: instrument.kind,
          description: instrument.description,
          itemCount: instrument.items.length,
          codes: instrument.codes,
        }),
        (instrument) => ({ id: instrument.id }),
      )
    },
    get: find,
    async fhir(id: string, version?: number) {
      return toQuestionnaire(await find(id, version), publicUrl)
    },
  }
}
