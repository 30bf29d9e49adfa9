import { createHash } from 'node:crypto'
import { z } from 'zod'
import { SAFETY_KINDS } from '../../lib/crisis-resources.js'
import { canonicalJson } from '../../lib/canonical-json.js'

/**
 * An instrument is data: items, answer options, a scoring rule, result bands, safety rules and
 * codes, in this one shape. Scoring, validation, recommendations, progress and FHIR all read it;
 * none of them knows any instrument by name, so a new instrument is a new definition and nothing else.
 * A definition never changes once released: a new wording, option, band or rule is a new `version`,
 * and each stored result names the version it was scored with.
 */

const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and hyphens')

/** Ids the FHIR mapping uses for items of its own; an instrument's items may not take them. */
export const RESERVED_ITEM_IDS = ['instructions', 'total-score'] as const

export const CodingSchema = z
  .object({
    system: z.string().min(1).describe('Code system URI, e.g. `http://loinc.org`.'),
    code: z.string().min(1),
    display: z.string().optional(),
  })
  .meta({ id: 'Coding' })

export const AnswerOptionSchema = z
  .object({
    value: z.number().int().min(0).max(100).describe('What to send as the answer; also its points before any reverse scoring.'),
    label: z.string().min(1),
    code: CodingSchema.optional().describe('LOINC answer code (LA…) where one exists.'),
  })
  .meta({ id: 'AnswerOption' })

export const InstrumentItemSchema = z
  .object({
    id: Slug.describe('Send it as `itemId`; the FHIR `linkId`.'),
    text: z.string().min(1),
    required: z.boolean().describe('Required items must be answered exactly once.'),
    scored: z.boolean().describe('Whether the item counts towards the score. Unscored items are recorded only.'),
    reverseScored: z.boolean().describe('Points are counted from the other end of the scale (highest option scores lowest).'),
    options: z.array(AnswerOptionSchema).min(2).max(20),
    code: CodingSchema.optional().describe('LOINC code of the question, where one exists.'),
    note: z.string().optional().describe('Where the item comes from, when that is not obvious.'),
  })
  .meta({ id: 'InstrumentItem' })

export const ScoringSchema = z
  .discriminatedUnion('method', [
    z.object({
      method: z.literal('sum'),
      description: z.string(),
    }),
    z.object({
      method: z.literal('count'),
      countAtLeast: z.number().int().min(1).describe('A scored item counts when its points are at least this.'),
      description: z.string(),
    }),
  ])
  .meta({ id: 'ScoringRule', description: '`sum`: the points of the scored items. `count`: how many scored items reach `countAtLeast` (a checklist).' })

export const BandSchema = z
  .object({
    key: Slug,
    min: z.number().int().describe('Lowest score in the band (inclusive).'),
    max: z.number().int().describe('Highest score in the band (inclusive).'),
    label: z.string().min(1),
    interpretation: z.string().min(1).describe('What the result means, in plain language. Never a diagnosis.'),
  })
  .meta({ id: 'ResultBand' })

export const SafetyRuleSchema = z
  .object({
    id: Slug,
    kind: z.enum(SAFETY_KINDS).describe('Which crisis resources an alert from this rule brings.'),
    itemId: Slug.describe('The item whose answer the rule watches.'),
    atLeast: z.number().int().min(1).describe('The rule fires when the answer’s value is at least this, whatever the total score.'),
    message: z.string().min(1).describe('What the safety block says when the rule fires.'),
  })
  .meta({ id: 'SafetyRule' })

export const InstrumentDefinitionSchema = z
  .object({
    id: Slug,
    version: z.number().int().min(1),
    title: z.string().min(1),
    shortTitle: z.string().min(1),
    kind: z.enum(['checklist', 'screener']).describe('`screener`: a validated clinical questionnaire. `checklist`: a reflection aid, not a clinical measure.'),
    description: z.string().min(1),
    instructions: z.string().min(1).describe('The stem shown above the items.'),
    disclaimer: z.string().min(1).describe('Shown with every result: what the result is not.'),
    source: z.object({ citation: z.string().min(1), url: z.url().optional() }).describe('Where the instrument comes from.'),
    attribution: z.string().nullable().describe('The notice its copyright holder asks to be shown with it, verbatim; null when none.'),
    codes: z
      .object({ panel: CodingSchema.optional(), total: CodingSchema.optional() })
      .describe('LOINC codes of the panel and of its total score, where they exist.'),
    items: z.array(InstrumentItemSchema).min(1).max(100),
    scoring: ScoringSchema,
    listEndorsedItems: z.boolean().describe('Results name the scored items that counted (e.g. which red flags are present).'),
    bands: z.array(BandSchema).min(1),
    safetyRules: z.array(SafetyRuleSchema),
    progress: z.object({
      higherIsBetter: z.boolean().nullable().describe('Whether a rising score is an improvement; null when neither.'),
      meaningfulChange: z
        .object({
          points: z.number().int().min(1),
          source: z.string().min(1),
        })
        .nullable()
        .describe('The smallest change in score that is clinically meaningful for one person, with its source; null when none is established.'),
      reassessAfterDays: z.number().int().min(1).describe('When taking it again is useful.'),
    }),
  })
  .meta({ id: 'Instrument' })

export type InstrumentDefinition = z.infer<typeof InstrumentDefinitionSchema>
export type InstrumentItem = z.infer<typeof InstrumentItemSchema>

/** The points an answer is worth: its value, or its mirror image on the item's scale when reverse-scored. */
export function itemPoints(item: InstrumentItem, value: number): number {
  if (!item.reverseScored) return value
  const values = item.options.map((option) => option.value)
  return Math.min(...values) + Math.max(...values) - value
}

/** The lowest and highest score the instrument can produce. */
export function scoreRange(instrument: InstrumentDefinition): { min: number; max: number } {
  const scored = instrument.items.filter((item) => item.scored)
  if (instrument.scoring.method === 'count') return { min: 0, max: scored.length }
  let min = 0
  let max = 0
  for (const item of scored) {
    const points = item.options.map((option) => itemPoints(item, option.value))
    min += Math.min(...points)
    max += Math.max(...points)
  }
  return { min, max }
}

/**
 * Checks what the schema alone cannot: unique ids and values, bands that cover every possible
 * score exactly once, safety rules that watch real items with reachable values.
 * @returns one line per problem; empty when the definition is sound
 */
export function instrumentProblems(instrument: InstrumentDefinition): string[] {
  const problems: string[] = []
  const ids = new Set<string>()
  for (const item of instrument.items) {
    if (ids.has(item.id)) problems.push(`item ${item.id} appears twice`)
    ids.add(item.id)
    if ((RESERVED_ITEM_IDS as readonly string[]).includes(item.id)) problems.push(`item id ${item.id} is reserved`)
    const values = item.options.map((option) => option.value)
    if (new Set(values).size !== values.length) problems.push(`item ${item.id} has two options with one value`)
  }
  if (!instrument.items.some((item) => item.scored)) problems.push('no item is scored')

  const { min, max } = scoreRange(instrument)
  const bands = [...instrument.bands].sort((a, b) => a.min - b.min)
  let next = min
  for (const band of bands) {
    if (band.min > band.max) problems.push(`band ${band.key} has min above max`)
    if (band.min !== next) problems.push(`band ${band.key} starts at ${band.min}, expected ${next}`)
    next = band.max + 1
  }
  if (next !== max + 1) problems.push(`bands end at ${next - 1}, but scores reach ${max}`)
  if (new Set(bands.map((band) => band.key)).size !== bands.length) problems.push('two bands share a key')

  for (const rule of instrument.safetyRules) {
    const item = instrument.items.find((candidate) => candidate.id === rule.itemId)
    if (!item) problems.push(`safety rule ${rule.id} watches unknown item ${rule.itemId}`)
    else if (!item.options.some((option) => option.value >= rule.atLeast)) problems.push(`safety rule ${rule.id} can never fire`)
  }
  return problems
}

/**
 * SHA-256 of the definition's canonical JSON (as stored: `undefined` members dropped), so the same
 * content always has the same hash, whatever the key order.
 */
export const contentHash = (instrument: InstrumentDefinition): string =>
  createHash('sha256')
    .update(canonicalJson(JSON.parse(JSON.stringify(instrument))))
    .digest('hex')
