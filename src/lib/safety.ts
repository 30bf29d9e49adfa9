import { z } from 'zod'
import { type CrisisResource, CrisisResourceSchema, DEFAULT_CRISIS_RESOURCES, resourcesFor, SAFETY_KINDS } from './crisis-resources.js'

/**
 * The `safety` block: one shape for every answer that can signal risk. Assessments fill it from their
 * safety rules (PHQ-9 item 9, the red-flags safety question); journal writes from the crisis-language
 * detector (src/lib/crisis-language.ts). Either way the resources come from CRISIS_RESOURCES.
 */

/** Shown in every safety block of an assessment, alert or not. */
export const SAFETY_NOTICE =
  'Self-assessments are screening and reflection tools, not a diagnosis. If you are ever in immediate danger, contact emergency services.'

export const SafetyReasonSchema = z.object({
  ruleId: z.string(),
  kind: z.enum(SAFETY_KINDS),
  itemId: z
    .string()
    .describe('What fired the rule: the assessment item whose answer did, or, for a journal entry, the field whose text did (`body`, `title`, `conflict.trigger`, …).'),
  message: z.string(),
})

const SAFETY_EXAMPLE = {
  alert: true,
  message:
    'You said you have had thoughts that you would be better off dead or of hurting yourself. You deserve support right now: you can talk to someone at any hour, for free and in confidence.',
  reasons: [
    {
      ruleId: 'phq9-item9',
      kind: 'self-harm',
      itemId: 'phq9-9',
      message:
        'You said you have had thoughts that you would be better off dead or of hurting yourself. You deserve support right now: you can talk to someone at any hour, for free and in confidence.',
    },
  ],
  resources: DEFAULT_CRISIS_RESOURCES.filter((resource) => resource.for.includes('self-harm')),
  notice: SAFETY_NOTICE,
}

export const SafetySchema = z
  .discriminatedUnion('alert', [
    z.object({
      alert: z.literal(true),
      message: z.string().describe('What to tell the user, first and prominently.'),
      reasons: z.array(SafetyReasonSchema).min(1),
      resources: z.array(CrisisResourceSchema).min(1).describe('Crisis resources for the kinds of risk in `reasons`, from the deployment’s configuration.'),
      notice: z.string(),
    }),
    z.object({
      alert: z.literal(false),
      message: z.null(),
      reasons: z.array(SafetyReasonSchema).max(0),
      resources: z.array(CrisisResourceSchema).max(0),
      notice: z.string(),
    }),
  ])
  .meta({
    id: 'Safety',
    description:
      'Always present where it applies. `alert: true` when an answer signals risk — e.g. PHQ-9 item 9 above 0, whatever the total, or a journal entry whose text ' +
      'speaks of self-harm or suicide — with crisis resources an app must show. Any 400 for an assessment submission carries it too when the answers it could read ' +
      '(numeric strings read as numbers) call for it.',
    example: SAFETY_EXAMPLE,
  })
export type SafetyReason = z.infer<typeof SafetyReasonSchema>
export type SafetyBlock = z.infer<typeof SafetySchema>

/** The safety block for these reasons: crisis resources for each kind of risk, or a plain "no alert". */
export function safetyBlock(reasons: readonly SafetyReason[], resources: readonly CrisisResource[], notice: string = SAFETY_NOTICE): SafetyBlock {
  if (reasons.length === 0) return { alert: false, message: null, reasons: [], resources: [], notice }
  const kinds = new Set(reasons.map((reason) => reason.kind))
  const matching = resourcesFor(resources, kinds)
  // Configuration guarantees a resource per kind; should it ever not, every resource beats none.
  return {
    alert: true,
    message: [...new Set(reasons.map((reason) => reason.message))].join(' '),
    reasons: [...reasons],
    resources: matching.length > 0 ? matching : [...resources],
    notice,
  }
}
