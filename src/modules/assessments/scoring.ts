import type { CrisisResource } from '../../lib/crisis-resources.js'
import { safetyBlock } from '../../lib/safety.js'
import type { FieldError } from '../../lib/errors.js'
import type { AnswerInput, AssessmentResult, SafetyBlock, SafetyReason } from './assessments-schemas.js'

export { safetyBlock }
import { type InstrumentDefinition, itemPoints, scoreRange } from './instrument-schema.js'

/**
 * Scoring, pure: no database, no clock, no configuration lookup, so every band edge and every
 * safety combination is unit-tested. It validates the answers against the instrument, scores them,
 * picks the band, and evaluates the safety rules — on every path, including the one that rejects
 * the answers, so a response can never leave out a safety alert the answers call for.
 */

/** A result as the API shows it (`endorsedItems`: scored items that counted, where the instrument names them). */
export type ScoredAssessment = AssessmentResult & {
  /** The answers, in the instrument's item order. */
  answers: AnswerInput[]
}

/** Either way, `safety` is there: a rejected submission can still call for crisis resources. */
export type ScoreOutcome = ({ ok: true; scored: ScoredAssessment } | { ok: false; errors: FieldError[] }) & { safety: SafetyBlock }

/**
 * The safety rules that fire. Reads the raw answers, valid or not: a value at or above a rule's
 * threshold on the watched item fires it even if the value is not one of the options or the item
 * is answered twice (a client that numbers options from 1 must still get the alert).
 */
export function safetyReasons(instrument: InstrumentDefinition, answers: readonly AnswerInput[]): SafetyReason[] {
  return instrument.safetyRules
    .filter((rule) => answers.some((answer) => answer.itemId === rule.itemId && Number.isFinite(answer.value) && answer.value >= rule.atLeast))
    .map((rule) => ({ ruleId: rule.id, kind: rule.kind, itemId: rule.itemId, message: rule.message }))
}

const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/

/**
 * The `{itemId, value}` pairs a body that failed validation still lets us read, for the safety rules
 * only: a numeric string counts as its number and item ids are compared trimmed and in lower case, so
 * `{"itemId": "phq9-9", "value": "3"}` still fires the PHQ-9 item 9 rule. Anything else is skipped.
 */
export function readableAnswers(answers: unknown): AnswerInput[] {
  if (!Array.isArray(answers)) return []
  return answers.flatMap((answer: unknown) => {
    if (typeof answer !== 'object' || answer === null) return []
    const { itemId, value } = answer as Record<string, unknown>
    const number = typeof value === 'number' ? value : typeof value === 'string' && NUMERIC.test(value) ? Number(value) : Number.NaN
    return typeof itemId === 'string' && Number.isFinite(number) ? [{ itemId: itemId.trim().toLowerCase(), value: number }] : []
  })
}

/** Each problem with the answers, naming the item: unknown, answered twice, not an option, or missing. */
export function answerProblems(instrument: InstrumentDefinition, answers: readonly AnswerInput[]): FieldError[] {
  const errors: FieldError[] = []
  const seen = new Set<string>()
  answers.forEach((answer, index) => {
    const item = instrument.items.find((candidate) => candidate.id === answer.itemId)
    if (!item) {
      errors.push({ in: 'body', field: `answers.${index}.itemId`, message: `${instrument.id} has no item "${answer.itemId}".`, code: 'unknown_item' })
      return
    }
    if (seen.has(item.id)) {
      errors.push({ in: 'body', field: `answers.${index}.itemId`, message: `Item ${item.id} is answered more than once.`, code: 'duplicate_answer' })
    }
    seen.add(item.id)
    if (!item.options.some((option) => option.value === answer.value)) {
      const allowed = item.options.map((option) => option.value).join(', ')
      errors.push({
        in: 'body',
        field: `answers.${index}.value`,
        message: `${answer.value} is not an answer to item ${item.id}; use one of ${allowed}.`,
        code: 'invalid_option',
      })
    }
  })
  for (const item of instrument.items) {
    if (item.required && !seen.has(item.id)) {
      errors.push({ in: 'body', field: 'answers', message: `Item ${item.id} is required but not answered.`, code: 'missing_answer' })
    }
  }
  return errors
}

/**
 * Validates, scores and evaluates safety for one completed instrument.
 * @param instrument - the exact version the answers were given to
 * @param answers - item id and chosen option value, as submitted
 * @param resources - the configured crisis resources
 * @returns the scored result, or each problem with the answers; a safety block either way
 */
export function scoreAssessment(instrument: InstrumentDefinition, answers: readonly AnswerInput[], resources: readonly CrisisResource[]): ScoreOutcome {
  const safety = safetyBlock(safetyReasons(instrument, answers), resources)
  const errors = answerProblems(instrument, answers)
  if (errors.length > 0) return { ok: false, errors, safety }

  const byItem = new Map(answers.map((answer) => [answer.itemId, answer.value]))
  const ordered: AnswerInput[] = instrument.items.flatMap((item) => {
    const value = byItem.get(item.id)
    return value === undefined ? [] : [{ itemId: item.id, value }]
  })

  let score = 0
  const endorsedItems: ScoredAssessment['endorsedItems'] = []
  for (const item of instrument.items) {
    const value = byItem.get(item.id)
    if (!item.scored || value === undefined) continue
    const points = itemPoints(item, value)
    const counts = instrument.scoring.method === 'count' ? points >= instrument.scoring.countAtLeast : points > 0
    if (instrument.scoring.method === 'count') score += counts ? 1 : 0
    else score += points
    if (instrument.listEndorsedItems && counts) endorsedItems.push({ itemId: item.id, text: item.text })
  }

  const band = instrument.bands.find((candidate) => score >= candidate.min && score <= candidate.max)
  // Unreachable for a definition that passed instrumentProblems(), which every loaded one has.
  if (!band) throw new Error(`${instrument.id}@${instrument.version}: no band for score ${score}`)
  const { min, max } = scoreRange(instrument)
  return {
    ok: true,
    safety,
    scored: {
      answers: ordered,
      score,
      minScore: min,
      maxScore: max,
      band: { key: band.key, label: band.label, interpretation: band.interpretation },
      endorsedItems: instrument.listEndorsedItems ? endorsedItems : [],
      disclaimer: instrument.disclaimer,
    },
  }
}
