import { z } from 'zod'
import { DateOrInstantSchema, RANGE_CONVENTION, TimeZoneSchema } from '../../lib/date-range.js'
import { pageOf, PageQuerySchema } from '../../lib/pagination.js'
import { SAFETY_NOTICE, SafetySchema } from '../../lib/safety.js'
import { CodingSchema, InstrumentDefinitionSchema } from './instrument-schema.js'

// The safety block is shared with the journal (src/lib/safety.ts); re-exported for this module's files.
export { SAFETY_NOTICE, type SafetyBlock, type SafetyReason, SafetyReasonSchema, SafetySchema } from '../../lib/safety.js'

/** What the logger must never show of an assessment: the answers people gave (see src/features.ts). */
export const ASSESSMENT_LOG_REDACTIONS = ['answers']

const EXAMPLE_ID = '3f6c1d2e-8a4b-4c5d-9e7f-0a1b2c3d4e5f'
const InstrumentId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'an instrument id, e.g. phq-9')
  .describe('Instrument id, e.g. `therapy-readiness`, `relationship-red-flags`, `phq-9`, `gad-7`.')

// ---------- instruments ----------

export const InstrumentParamsSchema = z.object({ id: InstrumentId })
export const InstrumentVersionQuerySchema = z.object({
  version: z.coerce.number().int().min(1).max(2147483647).optional().describe('A specific version, e.g. the one an old result names; default the current one.'),
})

export const InstrumentSchema = InstrumentDefinitionSchema

export const InstrumentSummarySchema = z
  .object({
    id: z.string(),
    version: z.number().int(),
    title: z.string(),
    shortTitle: z.string(),
    kind: z.enum(['checklist', 'screener']),
    description: z.string(),
    itemCount: z.number().int(),
    codes: z.object({ panel: CodingSchema.optional(), total: CodingSchema.optional() }),
  })
  .meta({ id: 'InstrumentSummary' })

export const InstrumentListQuerySchema = PageQuerySchema
export const InstrumentPageSchema = pageOf(InstrumentSummarySchema).meta({
  id: 'InstrumentPage',
  example: {
    data: [
      {
        id: 'therapy-readiness',
        version: 1,
        title: 'Is Therapy Right for You Right Now?',
        shortTitle: 'Therapy readiness',
        kind: 'checklist',
        description: 'A six-statement checklist for people thinking about going to therapy, including on their own when a partner will not join. …',
        itemCount: 6,
        codes: {},
      },
    ],
    page: { nextCursor: null },
  },
})

// ---------- submitting ----------

export const AnswerInputSchema = z
  .object({
    itemId: z.string().min(1).max(64).describe('The item’s `id` (its FHIR linkId).'),
    value: z.number().int().describe('The `value` of the chosen answer option.'),
  })
  .meta({ id: 'SubmittedAnswer', example: { itemId: 'phq9-1', value: 2 } })
export type AnswerInput = z.infer<typeof AnswerInputSchema>

export const CreateAssessmentSchema = z
  .strictObject({
    instrumentId: InstrumentId,
    instrumentVersion: z
      .number()
      .int()
      .min(1)
      .max(2147483647)
      .optional()
      .describe('The version the user answered, when the app pinned one; default the current version.'),
    answers: z
      .array(AnswerInputSchema)
      .max(100)
      .describe('One answer per item. Every required item must be answered exactly once, with one of its option values.'),
    takenAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('When the user took it, if not just now (e.g. answered offline). Not in the future (5 minutes of clock skew allowed).'),
  })
  .meta({
    id: 'CreateAssessment',
    description: 'A completed instrument. The server validates the answers and computes the score, band, interpretation, safety block and recommendations.',
    example: {
      instrumentId: 'therapy-readiness',
      answers: [
        { itemId: 'stuck-in-arguments', value: 1 },
        { itemId: 'doubt-worth', value: 0 },
        { itemId: 'partner-dismisses', value: 1 },
        { itemId: 'understand-triggers', value: 1 },
        { itemId: 'carrying-weight-alone', value: 1 },
        { itemId: 'deserve-support', value: 0 },
      ],
    },
  })
export type CreateAssessment = z.infer<typeof CreateAssessmentSchema>

// ---------- results ----------

export const RecommendationSchema = z
  .object({
    ruleId: z.string().describe('The recommendation rule that fired (stable id).'),
    title: z.string().describe('What is recommended, as a heading.'),
    rationale: z.string().describe('Why this fits the result, in plain language.'),
    modalities: z.array(z.string()).describe('Modality slugs (`GET /v1/modalities`).'),
    specialties: z.array(z.string()).describe('Specialty slugs (`GET /v1/specialties`).'),
    clientFocus: z.array(z.string()).describe('Client focus slugs, e.g. `individuals`.'),
    directorySearch: z.object({ href: z.string().describe('A ready-made `GET /v1/therapists` search, relative to the API’s base URL.') }),
  })
  .meta({ id: 'Recommendation' })
export type Recommendation = z.infer<typeof RecommendationSchema>

export const AnswerSchema = z
  .object({
    itemId: z.string().describe('The item answered.'),
    question: z.string().describe('The item’s text, in the version answered.'),
    value: z.number().int().describe('The chosen option’s value.'),
    label: z.string().describe('The chosen option’s label.'),
  })
  .meta({ id: 'Answer' })

export const AssessmentResultSchema = z
  .object({
    score: z.number().int().describe('The total score, computed by the server.'),
    minScore: z.number().int().describe('The lowest possible score.'),
    maxScore: z.number().int().describe('The highest possible score.'),
    band: z
      .object({
        key: z.string().describe('Stable id of the band, e.g. `moderate`.'),
        label: z.string().describe('The band’s name, e.g. `Moderate`.'),
        interpretation: z.string().describe('What the band means, in plain language.'),
      })
      .describe('The result band the score falls in.'),
    endorsedItems: z
      .array(z.object({ itemId: z.string().describe('The item.'), text: z.string().describe('Its statement.') }))
      .describe('For checklists: the statements that applied (e.g. which red flags are present). Empty for screeners.'),
    disclaimer: z.string().describe('What the result is not (never a diagnosis).'),
  })
  .meta({ id: 'AssessmentResult' })
export type AssessmentResult = z.infer<typeof AssessmentResultSchema>

const ASSESSMENT_EXAMPLE = {
  id: EXAMPLE_ID,
  instrument: { id: 'therapy-readiness', version: 1, title: 'Is Therapy Right for You Right Now?' },
  takenAt: '2026-11-26T09:30:00.000Z',
  createdAt: '2026-11-26T09:30:00.412Z',
  answers: [
    { itemId: 'stuck-in-arguments', question: 'I feel stuck in repetitive arguments or emotional disconnection.', value: 1, label: 'Yes' },
    { itemId: 'doubt-worth', question: 'I often doubt my worth or sanity in the relationship.', value: 0, label: 'No' },
    { itemId: 'partner-dismisses', question: 'My partner dismisses emotional conversations or shuts down.', value: 1, label: 'Yes' },
    { itemId: 'understand-triggers', question: 'I want to understand my triggers and improve self-regulation.', value: 1, label: 'Yes' },
    { itemId: 'carrying-weight-alone', question: 'I’m tired of carrying the emotional weight alone.', value: 1, label: 'Yes' },
    { itemId: 'deserve-support', question: 'I believe I deserve support, regardless of my partner’s choices.', value: 0, label: 'No' },
  ],
  result: {
    score: 4,
    minScore: 0,
    maxScore: 6,
    band: {
      key: 'ready',
      label: 'Three or more apply',
      interpretation:
        'Three or more of these statements apply to you, so therapy could be a transformative step now, with or without your partner. …',
    },
    endorsedItems: [
      { itemId: 'stuck-in-arguments', text: 'I feel stuck in repetitive arguments or emotional disconnection.' },
      { itemId: 'partner-dismisses', text: 'My partner dismisses emotional conversations or shuts down.' },
      { itemId: 'understand-triggers', text: 'I want to understand my triggers and improve self-regulation.' },
      { itemId: 'carrying-weight-alone', text: 'I’m tired of carrying the emotional weight alone.' },
    ],
    disclaimer: 'This checklist is a reflection aid, not a clinical test or a diagnosis.',
  },
  safety: { alert: false, message: null, reasons: [], resources: [], notice: SAFETY_NOTICE },
  recommendations: [
    {
      ruleId: 'readiness-relationship-patterns',
      title: 'Individual therapy for relationship patterns',
      rationale: 'Repeating arguments, a partner who shuts down and carrying the emotional weight alone are relationship patterns. …',
      modalities: ['attachment-based', 'eft', 'cbt'],
      specialties: ['relationship-issues', 'attachment', 'communication'],
      clientFocus: ['individuals'],
      directorySearch: {
        href: '/v1/therapists?modality=attachment-based,eft,cbt&modalityMatch=any&specialty=relationship-issues,attachment,communication&clientFocus=individuals',
      },
    },
  ],
}

export const AssessmentSchema = z
  .object({
    id: z.uuid(),
    instrument: z
      .object({
        id: z.string().describe('The instrument, e.g. `phq-9`.'),
        version: z.number().int().describe('The version it was scored with; never changes.'),
        title: z.string().describe('The instrument’s title.'),
      })
      .describe('What was taken.'),
    takenAt: z.iso.datetime(),
    createdAt: z.iso.datetime(),
    answers: z.array(AnswerSchema).describe('The answers, with each question and option as offered.'),
    result: AssessmentResultSchema,
    safety: SafetySchema,
    recommendations: z.array(RecommendationSchema).describe('What to look for in the directory; may be empty (e.g. minimal symptoms).'),
  })
  .meta({ id: 'Assessment', example: ASSESSMENT_EXAMPLE })
export type Assessment = z.infer<typeof AssessmentSchema>

export const AssessmentParamsSchema = z.object({ id: z.uuid({ error: 'must be an assessment id (a UUID)' }) })

export const AssessmentListQuerySchema = PageQuerySchema.extend({
  instrumentId: InstrumentId.optional().describe('Only results of this instrument.'),
  from: DateOrInstantSchema.optional().describe(`Only results taken at or after this. ${RANGE_CONVENTION}`),
  to: DateOrInstantSchema.optional().describe(`Only results taken at or before this. ${RANGE_CONVENTION}`),
  tz: TimeZoneSchema.describe('IANA time zone in which plain dates in `from` and `to` are read; default UTC.'),
})
export type AssessmentListQuery = z.output<typeof AssessmentListQuerySchema>

export const AssessmentPageSchema = pageOf(AssessmentSchema).meta({ id: 'AssessmentPage', description: 'Newest first (by `takenAt`).' })

// ---------- progress ----------

export const ProgressQuerySchema = z.object({ instrumentId: InstrumentId })

/** Points in a progress series; beyond it, the first result and the latest ones. */
export const PROGRESS_MAX_POINTS = 1000

export const ScoreChangeSchema = z
  .object({
    points: z.number().int().describe('Latest score minus the earlier one.'),
    direction: z.enum(['up', 'down', 'none']),
    better: z.boolean().nullable().describe('Whether the change is an improvement; null when nothing changed or the instrument has no good direction.'),
    meaningful: z.boolean().nullable().describe('Whether the change reaches the meaningful-change threshold; null when the instrument has none.'),
    from: z.object({ assessmentId: z.uuid(), takenAt: z.iso.datetime(), score: z.number().int() }),
  })
  .meta({ id: 'ScoreChange' })
export type ScoreChange = z.infer<typeof ScoreChangeSchema>

export const ProgressSchema = z
  .object({
    instrument: z.object({ id: z.string(), version: z.number().int(), title: z.string() }),
    higherIsBetter: z.boolean().nullable(),
    meaningfulChange: z
      .object({ points: z.number().int(), source: z.string() })
      .nullable()
      .describe('The smallest clinically meaningful change for one person, with its source (PHQ-9: 5, GAD-7: 4).'),
    series: z
      .array(
        z.object({
          assessmentId: z.uuid(),
          takenAt: z.iso.datetime(),
          score: z.number().int(),
          band: z.object({ key: z.string(), label: z.string() }),
          instrumentVersion: z.number().int(),
        }),
      )
      .describe(
        `Every result, oldest first. Beyond ${PROGRESS_MAX_POINTS.toLocaleString('en')} results: the first one and the latest ` +
          `${(PROGRESS_MAX_POINTS - 1).toLocaleString('en')}, so \`changeSinceFirst\` still compares with the very first.`,
      ),
    changeSinceFirst: ScoreChangeSchema.nullable().describe('Latest versus first; null with fewer than two results.'),
    changeSincePrevious: ScoreChangeSchema.nullable().describe('Latest versus the one before; null with fewer than two results.'),
    lastTakenAt: z.iso.datetime().nullable(),
    daysSinceLast: z.number().int().nullable().describe('Whole days since the latest result; null when there is none.'),
    reassess: z
      .object({ afterDays: z.number().int(), due: z.boolean().describe('True when `daysSinceLast` reached `afterDays`, or there is no result yet.') })
      .describe('So an app can prompt "time to reassess".'),
  })
  .meta({
    id: 'Progress',
    example: {
      instrument: { id: 'phq-9', version: 1, title: 'Patient Health Questionnaire (PHQ-9)' },
      higherIsBetter: false,
      meaningfulChange: { points: 5, source: 'Löwe B, Unützer J, Callahan CM, Perkins AJ, Kroenke K. … Med Care 2004;42(12):1194–1201 …' },
      series: [
        { assessmentId: '0b7e5a10-3c2d-4e8f-9a1b-2c3d4e5f6a70', takenAt: '2026-09-01T08:00:00.000Z', score: 16, band: { key: 'moderately-severe', label: 'Moderately severe' }, instrumentVersion: 1 },
        { assessmentId: '5c2a7b31-4d5e-4f60-8a71-b2c3d4e5f601', takenAt: '2026-10-01T08:00:00.000Z', score: 12, band: { key: 'moderate', label: 'Moderate' }, instrumentVersion: 1 },
        { assessmentId: '9d4f8c42-5e6f-4a70-9b81-c3d4e5f60712', takenAt: '2026-11-01T08:00:00.000Z', score: 9, band: { key: 'mild', label: 'Mild' }, instrumentVersion: 1 },
      ],
      changeSinceFirst: { points: -7, direction: 'down', better: true, meaningful: true, from: { assessmentId: '0b7e5a10-3c2d-4e8f-9a1b-2c3d4e5f6a70', takenAt: '2026-09-01T08:00:00.000Z', score: 16 } },
      changeSincePrevious: {
        points: -3,
        direction: 'down',
        better: true,
        meaningful: false,
        from: { assessmentId: '5c2a7b31-4d5e-4f60-8a71-b2c3d4e5f601', takenAt: '2026-10-01T08:00:00.000Z', score: 12 },
      },
      lastTakenAt: '2026-11-01T08:00:00.000Z',
      daysSinceLast: 25,
      reassess: { afterDays: 14, due: true },
    },
  })
export type Progress = z.infer<typeof ProgressSchema>

// ---------- FHIR ----------

export const FhirCodingSchema = z.object({ system: z.string(), code: z.string(), display: z.string().optional() })

export const FhirQuestionnaireSchema = z
  .object({
    resourceType: z.literal('Questionnaire'),
    id: z.string(),
    url: z.string(),
    version: z.string(),
    name: z.string(),
    title: z.string(),
    status: z.literal('active'),
    subjectType: z.array(z.literal('Patient')),
    publisher: z.string(),
    description: z.string(),
    copyright: z.string().optional(),
    code: z.array(FhirCodingSchema).optional(),
    item: z.array(
      z.object({
        linkId: z.string(),
        code: z.array(FhirCodingSchema).optional(),
        text: z.string(),
        type: z.enum(['display', 'choice', 'integer']),
        required: z.boolean().optional(),
        readOnly: z.boolean().optional(),
        answerOption: z
          .array(z.object({ valueCoding: FhirCodingSchema, extension: z.array(z.object({ url: z.string(), valueDecimal: z.number() })) }))
          .optional(),
      }),
    ),
  })
  .meta({ id: 'FhirQuestionnaire', description: 'A FHIR R4 Questionnaire (http://hl7.org/fhir/R4/questionnaire.html).' })
export type FhirCoding = z.infer<typeof FhirCodingSchema>
export type FhirQuestionnaire = z.infer<typeof FhirQuestionnaireSchema>
export type FhirQuestionnaireItem = FhirQuestionnaire['item'][number]

export const FhirQuestionnaireResponseSchema = z
  .object({
    resourceType: z.literal('QuestionnaireResponse'),
    id: z.string(),
    identifier: z.object({ system: z.string(), value: z.string() }),
    questionnaire: z.string().describe('Canonical URL of the Questionnaire, `|` and the version answered.'),
    status: z.literal('completed'),
    authored: z.string(),
    item: z.array(
      z.object({
        linkId: z.string(),
        text: z.string(),
        answer: z.array(z.union([z.object({ valueCoding: FhirCodingSchema }), z.object({ valueInteger: z.number().int() })])),
      }),
    ),
  })
  .meta({ id: 'FhirQuestionnaireResponse', description: 'A FHIR R4 QuestionnaireResponse (http://hl7.org/fhir/R4/questionnaireresponse.html).' })
export type FhirQuestionnaireResponse = z.infer<typeof FhirQuestionnaireResponseSchema>
