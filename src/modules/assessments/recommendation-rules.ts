import { z } from 'zod'

/**
 * From a result to what to look for in the directory: data, one rule per situation, each with its
 * rationale. This file is the only place assessments name directory vocabulary, so reconciling
 * slugs with the directory's `GET /v1/modalities` and `GET /v1/specialties` happens here alone.
 *
 * A rule applies when every condition it sets holds: the result's band is one of `bands`, and/or
 * at least one of `anyItem.itemIds` was answered with `anyItem.atLeast` or more.
 */

/** Modality slugs, as in DESIGN.md. */
export const MODALITIES = [
  'cbt',
  'psychodynamic',
  'attachment-based',
  'eft',
  'dbt',
  'act',
  'ifs',
  'emdr',
  'gottman',
  'person-centered',
  'solution-focused',
  'narrative',
  'mindfulness-based',
  'schema-therapy',
  'psychoanalytic',
] as const

/** Specialty slugs: DESIGN.md's list, plus `emotional-regulation` and `stress` from the directory's vocabulary. */
export const SPECIALTIES = [
  'relationship-issues',
  'codependency',
  'boundaries',
  'attachment',
  'communication',
  'anxiety',
  'depression',
  'trauma',
  'self-esteem',
  'infidelity',
  'grief',
  'emotional-regulation',
  'stress',
] as const

export const CLIENT_FOCUSES = ['individuals', 'couples'] as const

export const RecommendationRuleSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  instrumentId: z.string().min(1),
  bands: z.array(z.string()).min(1).optional().describe('The rule applies to results in one of these bands.'),
  anyItem: z
    .object({ itemIds: z.array(z.string()).min(1), atLeast: z.number().int() })
    .optional()
    .describe('The rule applies when at least one of these items was answered with this value or more.'),
  title: z.string().min(1),
  rationale: z.string().min(1),
  modalities: z.array(z.enum(MODALITIES)),
  specialties: z.array(z.enum(SPECIALTIES)),
  clientFocus: z.array(z.enum(CLIENT_FOCUSES)),
})
export type RecommendationRule = z.infer<typeof RecommendationRuleSchema>

/** Individual therapy throughout: the product is about going to therapy on your own. */
const individuals: RecommendationRule['clientFocus'] = ['individuals']

export const RECOMMENDATION_RULES: readonly RecommendationRule[] = [
  // --- therapy-readiness ---
  {
    id: 'readiness-relationship-patterns',
    instrumentId: 'therapy-readiness',
    bands: ['ready'],
    anyItem: { itemIds: ['stuck-in-arguments', 'partner-dismisses', 'carrying-weight-alone'], atLeast: 1 },
    title: 'Individual therapy for relationship patterns',
    rationale:
      'Repeating arguments, a partner who shuts down and carrying the emotional weight alone are relationship patterns. Attachment-based therapy and ' +
      'emotionally focused therapy (EFT) work on the bonds and cycles behind them, CBT gives practical tools for communicating your needs, and all three ' +
      'can be done on your own.',
    modalities: ['attachment-based', 'eft', 'cbt'],
    specialties: ['relationship-issues', 'attachment', 'communication'],
    clientFocus: individuals,
  },
  {
    id: 'readiness-article-approaches',
    instrumentId: 'therapy-readiness',
    bands: ['ready'],
    title: 'The approaches the article suggests',
    rationale:
      'For going to therapy alone, the article suggests licensed therapists who specialise in individual therapy and relationship dynamics, ' +
      'trained for example in CBT, psychodynamic therapy or attachment-based approaches.',
    modalities: ['cbt', 'psychodynamic', 'attachment-based'],
    specialties: ['relationship-issues'],
    clientFocus: individuals,
  },
  {
    id: 'readiness-self-worth',
    instrumentId: 'therapy-readiness',
    bands: ['ready'],
    anyItem: { itemIds: ['doubt-worth'], atLeast: 1 },
    title: 'Rebuilding trust in yourself',
    rationale:
      'Doubting your worth or your sanity in a relationship is something to work on directly: CBT with the thoughts behind the doubt, ' +
      'person-centred therapy by giving you a space where your own perceptions are taken seriously.',
    modalities: ['cbt', 'person-centered'],
    specialties: ['self-esteem', 'boundaries'],
    clientFocus: individuals,
  },
  {
    id: 'readiness-self-regulation',
    instrumentId: 'therapy-readiness',
    bands: ['ready'],
    anyItem: { itemIds: ['understand-triggers'], atLeast: 1 },
    title: 'Understanding your triggers',
    rationale:
      'DBT teaches emotion-regulation skills, and CBT and mindfulness-based therapy help you notice a trigger and respond rather than react, ' +
      'like learning to regulate anxiety during conflicts.',
    modalities: ['dbt', 'cbt', 'mindfulness-based'],
    specialties: ['emotional-regulation'],
    clientFocus: individuals,
  },
  {
    id: 'readiness-gentle-start',
    instrumentId: 'therapy-readiness',
    bands: ['not-yet'],
    title: 'If you would like to explore, at your own pace',
    rationale:
      'Nothing here says you must start now. If you would still like to talk things through, person-centred and solution-focused therapists ' +
      'follow your lead and focus on what you want to change.',
    modalities: ['person-centered', 'solution-focused'],
    specialties: ['relationship-issues'],
    clientFocus: individuals,
  },

  // --- relationship-red-flags ---
  {
    id: 'red-flags-pattern',
    instrumentId: 'relationship-red-flags',
    bands: ['several', 'most'],
    title: 'Re-evaluating the relationship with support',
    rationale:
      'As the signs add up, a therapist who works with relationship dynamics can help you see the pattern clearly and decide what you want, ' +
      'whether that means staying, leaving or changing your side of the dynamic.',
    modalities: ['psychodynamic', 'attachment-based', 'cbt'],
    specialties: ['relationship-issues', 'boundaries'],
    clientFocus: individuals,
  },
  {
    id: 'red-flags-over-functioning',
    instrumentId: 'relationship-red-flags',
    anyItem: { itemIds: ['managing-their-moods'], atLeast: 1 },
    title: 'Boundaries and codependency',
    rationale:
      'Feeling responsible for a partner’s moods is the over-functioning the article links to codependency. Therapists who work with codependency ' +
      'and boundaries help you protect your energy without guilt; schema therapy works on the self-sacrificing patterns underneath.',
    modalities: ['cbt', 'schema-therapy'],
    specialties: ['codependency', 'boundaries'],
    clientFocus: individuals,
  },
  {
    id: 'red-flags-self-worth',
    instrumentId: 'relationship-red-flags',
    anyItem: { itemIds: ['mocks-growth', 'emotionally-drained'], atLeast: 1 },
    title: 'Protecting your self-worth',
    rationale:
      'Being mocked for trying to grow, or leaving interactions drained, wears down self-worth. CBT and person-centred therapy help you rebuild it ' +
      'and keep your right to grow.',
    modalities: ['cbt', 'person-centered'],
    specialties: ['self-esteem'],
    clientFocus: individuals,
  },
  {
    id: 'red-flags-unsafe',
    instrumentId: 'relationship-red-flags',
    anyItem: { itemIds: ['feel-unsafe'], atLeast: 1 },
    title: 'Trauma-informed individual support',
    rationale:
      'If you feel afraid or unsafe, the safety resources come first. When you are ready for therapy, look for individual sessions with a therapist ' +
      'experienced in trauma: couples therapy is generally not advised while one partner is afraid of the other.',
    modalities: [],
    specialties: ['trauma', 'relationship-issues'],
    clientFocus: individuals,
  },

  // --- phq-9 ---
  {
    id: 'phq9-mild',
    instrumentId: 'phq-9',
    bands: ['mild'],
    title: 'Talking therapy for low mood',
    rationale: 'For mild symptoms, structured talking therapies such as CBT, ACT or mindfulness-based therapy are common first steps.',
    modalities: ['cbt', 'act', 'mindfulness-based'],
    specialties: ['depression'],
    clientFocus: individuals,
  },
  {
    id: 'phq9-moderate-or-more',
    instrumentId: 'phq-9',
    bands: ['moderate', 'moderately-severe', 'severe'],
    title: 'Therapy for depression',
    rationale:
      'At this level clinicians usually recommend treatment. CBT and short-term psychodynamic therapy are both well studied for depression; ' +
      'a doctor can also talk with you about whether medication could help.',
    modalities: ['cbt', 'psychodynamic'],
    specialties: ['depression'],
    clientFocus: individuals,
  },

  // --- gad-7 ---
  {
    id: 'gad7-anxiety',
    instrumentId: 'gad-7',
    bands: ['mild', 'moderate', 'severe'],
    title: 'Therapy for anxiety',
    rationale:
      'CBT is the most studied therapy for anxiety; ACT and mindfulness-based therapy help you relate differently to worry rather than fight it.',
    modalities: ['cbt', 'act', 'mindfulness-based'],
    specialties: ['anxiety'],
    clientFocus: individuals,
  },
]
