import type { AnswerInput, Recommendation } from './assessments-schemas.js'
import type { RecommendationRule } from './recommendation-rules.js'

/**
 * Which rules apply to a result, as recommendations with a ready-made directory search. Pure:
 * the rules are data (recommendation-rules.ts), this only matches them.
 */

/**
 * `GET /v1/therapists` with the rule's filters: values of one filter are comma-separated and match
 * any of them; different filters must all match.
 */
export function directorySearchHref(rule: { modalities: readonly string[]; specialties: readonly string[]; clientFocus: readonly string[] }): string {
  const params: string[] = []
  const add = (name: string, values: readonly string[]) => {
    if (values.length > 0) params.push(`${name}=${values.map(encodeURIComponent).join(',')}`)
  }
  add('modality', rule.modalities)
  if (rule.modalities.length > 1) params.push('modalityMatch=any')
  add('specialty', rule.specialties)
  add('clientFocus', rule.clientFocus)
  return params.length > 0 ? `/v1/therapists?${params.join('&')}` : '/v1/therapists'
}

export function ruleApplies(rule: RecommendationRule, result: { instrumentId: string; bandKey: string; answers: readonly AnswerInput[] }): boolean {
  if (rule.instrumentId !== result.instrumentId) return false
  if (rule.bands && !rule.bands.includes(result.bandKey)) return false
  if (rule.anyItem) {
    const { itemIds, atLeast } = rule.anyItem
    if (!result.answers.some((answer) => itemIds.includes(answer.itemId) && answer.value >= atLeast)) return false
  }
  return true
}

/** The recommendations for a result, in the rules' order. */
export function recommend(
  rules: readonly RecommendationRule[],
  result: { instrumentId: string; bandKey: string; answers: readonly AnswerInput[] },
): Recommendation[] {
  return rules
    .filter((rule) => ruleApplies(rule, result))
    .map((rule) => ({
      ruleId: rule.id,
      title: rule.title,
      rationale: rule.rationale,
      modalities: [...rule.modalities],
      specialties: [...rule.specialties],
      clientFocus: [...rule.clientFocus],
      directorySearch: { href: directorySearchHref(rule) },
    }))
}
