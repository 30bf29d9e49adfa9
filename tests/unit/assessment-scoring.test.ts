import { describe, expect, it } from 'vitest'
import { DEFAULT_CRISIS_RESOURCES, type CrisisResource } from '../../src/lib/crisis-resources.js'
import { contentHash, type InstrumentDefinition, instrumentProblems, scoreRange } from '../../src/modules/assessments/instrument-schema.js'
import { GAD_7 } from '../../src/modules/assessments/instruments/gad-7.js'
import { BUILT_IN_INSTRUMENTS } from '../../src/modules/assessments/instruments/index.js'
import { PHQ_9 } from '../../src/modules/assessments/instruments/phq-9.js'
import { RELATIONSHIP_RED_FLAGS } from '../../src/modules/assessments/instruments/relationship-red-flags.js'
import { THERAPY_READINESS } from '../../src/modules/assessments/instruments/therapy-readiness.js'
import { type AnswerInput, SAFETY_NOTICE, type SafetyBlock } from '../../src/modules/assessments/assessments-schemas.js'
import { readableAnswers, type ScoredAssessment, scoreAssessment } from '../../src/modules/assessments/scoring.js'

const RESOURCES = DEFAULT_CRISIS_RESOURCES

/** Points per scored item, in item order; unscored items left out. */
function answers(instrument: InstrumentDefinition, points: number[], extra: AnswerInput[] = []): AnswerInput[] {
  const scored = instrument.items.filter((item) => item.scored)
  return [...scored.map((item, index) => ({ itemId: item.id, value: points[index] ?? 0 })), ...extra]
}

/** Answers that reach `score` on a 0–3 sum instrument, filling items from the first. */
function answersForScore(instrument: InstrumentDefinition, score: number): AnswerInput[] {
  const scored = instrument.items.filter((item) => item.scored)
  let left = score
  return scored.map((item) => {
    const value = Math.min(3, left)
    left -= value
    return { itemId: item.id, value }
  })
}

function scored(instrument: InstrumentDefinition, input: AnswerInput[], resources: readonly CrisisResource[] = RESOURCES): ScoredAssessment & { safety: SafetyBlock } {
  const outcome = scoreAssessment(instrument, input, resources)
  if (!outcome.ok) throw new Error(`expected a score, got ${JSON.stringify(outcome.errors)}`)
  return { ...outcome.scored, safety: outcome.safety }
}

/** A deterministic pseudo-random generator, so the combinations below are the same on every run. */
function mulberry32(seed: number) {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('instrument definitions', () => {
  it('are consistent: unique ids, bands covering every score exactly once, safety rules on real items', () => {
    for (const instrument of BUILT_IN_INSTRUMENTS) expect(instrumentProblems(instrument), instrument.id).toEqual([])
  })

  it('catch broken definitions', () => {
    const broken: InstrumentDefinition = {
      ...GAD_7,
      items: [...GAD_7.items, { ...GAD_7.items[0]!, text: 'again' }, { ...GAD_7.items[1]!, id: 'total-score' }],
      bands: [GAD_7.bands[0]!, { ...GAD_7.bands[2]!, min: 11 }],
      safetyRules: [
        { id: 'ghost', kind: 'self-harm', itemId: 'nope', atLeast: 1, message: 'x' },
        { id: 'never', kind: 'self-harm', itemId: 'gad7-1', atLeast: 4, message: 'x' },
      ],
    }
    expect(instrumentProblems(broken)).toEqual([
      'item gad7-1 appears twice',
      'item id total-score is reserved',
      'band moderate starts at 11, expected 5',
      'bands end at 14, but scores reach 27',
      'safety rule ghost watches unknown item nope',
      'safety rule never can never fire',
    ])
  })

  it('released versions are never edited in place: a change needs a new version (update this list only when adding one)', () => {
    const hashes = Object.fromEntries(BUILT_IN_INSTRUMENTS.map((instrument) => [`${instrument.id}@${instrument.version}`, contentHash(instrument)]))
    expect(hashes).toEqual({
      'therapy-readiness@1': 'eff5558cd3fe73fb926272fccc5ec16e295bf475859494942f767c0e224e0923',
      'relationship-red-flags@1': '5fc2302aa1a949ff65ecea383c625f3181471c1703bf2b462d9aaf1225e36fae',
      'phq-9@1': '989b891a8051fa8a52e64546e26d7bd1fb8cc321d23d3d8f7fe2e9474e973c68',
      'gad-7@1': '3ba4033bffe662f720e99f884dc25dace89d41a6c6a2891d2152c00f411b249e',
    })
  })

  it('carry the standard codes and the copyright holder’s notice', () => {
    expect(PHQ_9.codes.panel?.code).toBe('44249-1')
    expect(PHQ_9.codes.total?.code).toBe('44261-6')
    expect(PHQ_9.items.map((item) => item.code?.code)).toEqual([
      '44250-9', '44255-8', '44259-0', '44254-1', '44251-7', '44258-2', '44252-5', '44253-3', '44260-8', '69722-7',
    ])
    expect(GAD_7.codes.panel?.code).toBe('69737-5')
    expect(GAD_7.codes.total?.code).toBe('70274-6')
    expect(GAD_7.items.filter((item) => item.scored).map((item) => item.code?.code)).toEqual(['69725-0', '68509-9', '69733-4', '69734-2', '69735-9', '69689-8', '69736-7'])
    for (const instrument of [PHQ_9, GAD_7]) {
      expect(instrument.attribution).toContain('No permission required to reproduce, translate, display or distribute.')
      expect(instrument.items[0]!.options.map((option) => [option.value, option.label, option.code?.code])).toEqual([
        [0, 'Not at all', 'LA6568-5'],
        [1, 'Several days', 'LA6569-3'],
        [2, 'More than half the days', 'LA6570-1'],
        [3, 'Nearly every day', 'LA6571-9'],
      ])
    }
    expect(scoreRange(PHQ_9)).toEqual({ min: 0, max: 27 })
    expect(scoreRange(GAD_7)).toEqual({ min: 0, max: 21 })
    expect(scoreRange(THERAPY_READINESS)).toEqual({ min: 0, max: 6 })
    expect(scoreRange(RELATIONSHIP_RED_FLAGS)).toEqual({ min: 0, max: 5 })
  })
})

describe('scoring at the band edges', () => {
  // The published cut-offs, written out here rather than read from the data, so a typo in the data fails.
  const PHQ_9_EDGES: [number, string][] = [
    [0, 'none-minimal'], [4, 'none-minimal'], [5, 'mild'], [9, 'mild'], [10, 'moderate'], [14, 'moderate'],
    [15, 'moderately-severe'], [19, 'moderately-severe'], [20, 'severe'], [27, 'severe'],
  ]
  const GAD_7_EDGES: [number, string][] = [
    [0, 'minimal'], [4, 'minimal'], [5, 'mild'], [9, 'mild'], [10, 'moderate'], [14, 'moderate'], [15, 'severe'], [21, 'severe'],
  ]

  it.each(PHQ_9_EDGES)('PHQ-9 %i → %s', (score, band) => {
    const result = scored(PHQ_9, answersForScore(PHQ_9, score))
    expect(result.score).toBe(score)
    expect(result.band.key).toBe(band)
  })

  it.each(GAD_7_EDGES)('GAD-7 %i → %s', (score, band) => {
    const result = scored(GAD_7, answersForScore(GAD_7, score))
    expect(result.score).toBe(score)
    expect(result.band.key).toBe(band)
  })

  it.each([
    [0, 'not-yet'], [2, 'not-yet'], [3, 'ready'], [6, 'ready'],
  ] as [number, string][])('therapy readiness: %i statements → %s', (count, band) => {
    const result = scored(THERAPY_READINESS, answers(THERAPY_READINESS, [1, 1, 1, 1, 1, 1].map((_, index) => (index < count ? 1 : 0))))
    expect(result.score).toBe(count)
    expect(result.band.key).toBe(band)
  })

  it('therapy readiness: three or more says therapy could be a transformative step now; fewer, a gentler message', () => {
    expect(scored(THERAPY_READINESS, answers(THERAPY_READINESS, [1, 1, 1])).band.interpretation).toContain('therapy could be a transformative step now')
    const gentle = scored(THERAPY_READINESS, answers(THERAPY_READINESS, [1, 1])).band.interpretation
    expect(gentle).not.toContain('transformative')
    expect(gentle).toContain('you do not need to be in crisis to start')
  })

  it.each([
    [0, 'none'], [1, 'one'], [2, 'several'], [3, 'several'], [4, 'most'], [5, 'most'],
  ] as [number, string][])('relationship red flags: %i signs → %s', (count, band) => {
    const result = scored(RELATIONSHIP_RED_FLAGS, answers(RELATIONSHIP_RED_FLAGS, [1, 1, 1, 1, 1].map((_, index) => (index < count ? 1 : 0))))
    expect(result.score).toBe(count)
    expect(result.band.key).toBe(band)
  })

  it('names the red flags present, in the article’s words', () => {
    const result = scored(RELATIONSHIP_RED_FLAGS, answers(RELATIONSHIP_RED_FLAGS, [0, 1, 0, 1, 0]))
    expect(result.endorsedItems).toEqual([
      { itemId: 'mocks-growth', text: 'Your partner mocks or minimizes your efforts to grow.' },
      { itemId: 'managing-their-moods', text: 'You feel responsible for managing their moods or behaviors.' },
    ])
    expect(scored(PHQ_9, answersForScore(PHQ_9, 12)).endorsedItems).toEqual([])
  })

  it('records the PHQ-9 difficulty question without scoring it, and lets it be skipped', () => {
    const without = scored(PHQ_9, answersForScore(PHQ_9, 7))
    const withIt = scored(PHQ_9, [...answersForScore(PHQ_9, 7), { itemId: 'phq9-difficulty', value: 3 }])
    expect(withIt.score).toBe(7)
    expect(without.score).toBe(7)
    expect(withIt.answers.at(-1)).toEqual({ itemId: 'phq9-difficulty', value: 3 })
  })

  it('counts reverse-scored items from the other end of the scale', () => {
    const instrument: InstrumentDefinition = {
      ...GAD_7,
      items: GAD_7.items.map((item) => (item.id === 'gad7-1' ? { ...item, reverseScored: true } : item)),
    }
    expect(scored(instrument, answersForScore(instrument, 0)).score).toBe(3)
    expect(scored(instrument, [{ itemId: 'gad7-1', value: 3 }, ...answersForScore(instrument, 0).slice(1)]).score).toBe(0)
  })

  it('returns the answers in item order whatever order they came in', () => {
    const result = scored(GAD_7, answersForScore(GAD_7, 8).reverse())
    expect(result.answers.map((answer) => answer.itemId)).toEqual(['gad7-1', 'gad7-2', 'gad7-3', 'gad7-4', 'gad7-5', 'gad7-6', 'gad7-7'])
  })
})

describe('answer validation', () => {
  it('names each bad item: unknown, duplicate, not an option, missing', () => {
    const outcome = scoreAssessment(
      GAD_7,
      [
        { itemId: 'gad7-1', value: 1 },
        { itemId: 'gad7-1', value: 2 },
        { itemId: 'gad7-2', value: 4 },
        { itemId: 'phq9-1', value: 1 },
        { itemId: 'gad7-3', value: -1 },
        { itemId: 'gad7-4', value: 0 },
        { itemId: 'gad7-difficulty', value: 9 },
      ],
      RESOURCES,
    )
    expect(outcome.ok).toBe(false)
    if (outcome.ok) return
    expect(outcome.errors).toEqual([
      { in: 'body', field: 'answers.1.itemId', message: 'Item gad7-1 is answered more than once.', code: 'duplicate_answer' },
      { in: 'body', field: 'answers.2.value', message: '4 is not an answer to item gad7-2; use one of 0, 1, 2, 3.', code: 'invalid_option' },
      { in: 'body', field: 'answers.3.itemId', message: 'gad-7 has no item "phq9-1".', code: 'unknown_item' },
      { in: 'body', field: 'answers.4.value', message: '-1 is not an answer to item gad7-3; use one of 0, 1, 2, 3.', code: 'invalid_option' },
      { in: 'body', field: 'answers.6.value', message: '9 is not an answer to item gad7-difficulty; use one of 0, 1, 2, 3.', code: 'invalid_option' },
      { in: 'body', field: 'answers', message: 'Item gad7-5 is required but not answered.', code: 'missing_answer' },
      { in: 'body', field: 'answers', message: 'Item gad7-6 is required but not answered.', code: 'missing_answer' },
      { in: 'body', field: 'answers', message: 'Item gad7-7 is required but not answered.', code: 'missing_answer' },
    ])
  })

  it('lists every required item when nothing is answered', () => {
    const outcome = scoreAssessment(PHQ_9, [], RESOURCES)
    expect(outcome.ok).toBe(false)
    if (!outcome.ok) expect(outcome.errors.map((error) => error.message)).toEqual(PHQ_9.items.filter((item) => item.required).map((item) => `Item ${item.id} is required but not answered.`))
  })

  it('does not require the optional red-flags safety question', () => {
    expect(scoreAssessment(RELATIONSHIP_RED_FLAGS, answers(RELATIONSHIP_RED_FLAGS, [1, 0, 0, 0, 0]), RESOURCES).ok).toBe(true)
  })
})

describe('safety', () => {
  const selfHarm = RESOURCES.filter((resource) => resource.for.includes('self-harm')).map((resource) => resource.name)
  const domesticViolence = RESOURCES.filter((resource) => resource.for.includes('domestic-violence')).map((resource) => resource.name)

  it('has resources for each kind by default: 988 and 911 for self-harm; the DV hotline and 911 for domestic violence', () => {
    expect(selfHarm).toEqual(['988 Suicide & Crisis Lifeline', 'Emergency services'])
    expect(domesticViolence).toEqual(['National Domestic Violence Hotline', 'Emergency services'])
    const lifeline = RESOURCES[0]!
    expect(lifeline).toMatchObject({ call: '988', text: '988' })
    expect(lifeline.description).toContain('988lifeline.org')
  })

  it('alerts on PHQ-9 item 9 above 0 whatever the total, with every other item at every level', () => {
    for (const item9 of [1, 2, 3]) {
      for (const others of [0, 1, 2, 3]) {
        const result = scored(PHQ_9, answers(PHQ_9, [others, others, others, others, others, others, others, others, item9]))
        expect(result.safety.alert, `item 9 = ${item9}, others = ${others}`).toBe(true)
        expect(result.safety.resources.map((resource) => resource.name)).toEqual(selfHarm)
        expect(result.safety.reasons).toEqual([expect.objectContaining({ ruleId: 'phq9-item9', kind: 'self-harm', itemId: 'phq9-9' })])
        expect(result.safety.message).toContain('hurting yourself')
        expect(result.safety.notice).toBe(SAFETY_NOTICE)
      }
    }
    // The lowest possible total with item 9 endorsed is still "none to minimal", and still alerts.
    const lowest = scored(PHQ_9, answers(PHQ_9, [0, 0, 0, 0, 0, 0, 0, 0, 1]))
    expect([lowest.score, lowest.band.key, lowest.safety.alert]).toEqual([1, 'none-minimal', true])
  })

  it('never alerts on the PHQ-9 when item 9 is 0, however severe the total', () => {
    for (const others of [0, 1, 2, 3]) {
      const result = scored(PHQ_9, answers(PHQ_9, [others, others, others, others, others, others, others, others, 0], [{ itemId: 'phq9-difficulty', value: 3 }]))
      expect(result.safety).toEqual({ alert: false, message: null, reasons: [], resources: [], notice: SAFETY_NOTICE })
    }
    expect(scored(PHQ_9, answers(PHQ_9, [3, 3, 3, 3, 3, 3, 3, 3, 0])).band.key).toBe('severe')
  })

  it('alerts exactly when item 9 is above 0, over 2000 random PHQ-9s', () => {
    const random = mulberry32(9)
    for (let n = 0; n < 2000; n++) {
      const points = Array.from({ length: 9 }, () => Math.floor(random() * 4))
      const result = scored(PHQ_9, answers(PHQ_9, points))
      expect(result.safety.alert, points.join(',')).toBe(points[8]! > 0)
    }
  })

  it('alerts on a rejected PHQ-9 too, when item 9 is readable and above 0', () => {
    const missingOthers = scoreAssessment(PHQ_9, [{ itemId: 'phq9-9', value: 2 }], RESOURCES)
    expect(missingOthers.ok).toBe(false)
    expect(missingOthers.safety.alert).toBe(true)
    // A client numbering options from 1 sends 4 for "Nearly every day": invalid, and still an alert.
    const offByOne = scoreAssessment(PHQ_9, answers(PHQ_9, [1, 1, 1, 1, 1, 1, 1, 1, 4]), RESOURCES)
    expect(offByOne.ok).toBe(false)
    expect(offByOne.safety.alert).toBe(true)
    // Answered twice, once above 0.
    const twice = scoreAssessment(PHQ_9, answers(PHQ_9, [0, 0, 0, 0, 0, 0, 0, 0, 0], [{ itemId: 'phq9-9', value: 1 }]), RESOURCES)
    expect(twice.safety.alert).toBe(true)
    const calm = scoreAssessment(PHQ_9, [{ itemId: 'phq9-9', value: 0 }], RESOURCES)
    expect(calm.ok).toBe(false)
    expect(calm.safety.alert).toBe(false)
  })

  it('reads what it can of a body that failed validation, for the safety rules', () => {
    expect(
      readableAnswers([
        { itemId: 'phq9-9', value: '3' },
        { itemId: ' PHQ9-8 ', value: 2 },
        { itemId: 'phq9-7', value: ' 1.5 ' },
        { itemId: 'phq9-6', value: 'often' },
        { itemId: 'phq9-5' },
        { value: 3 },
        { itemId: 'phq9-4', value: true },
        'phq9-3',
        null,
      ]),
    ).toEqual([
      { itemId: 'phq9-9', value: 3 },
      { itemId: 'phq9-8', value: 2 },
      { itemId: 'phq9-7', value: 1.5 },
    ])
    for (const nothing of [undefined, null, 'phq9-9=3', { 'phq9-9': 3 }]) expect(readableAnswers(nothing)).toEqual([])
  })

  it('brings domestic-violence resources when the red-flags safety question is Yes, whatever the count', () => {
    for (const count of [0, 1, 2, 3, 4, 5]) {
      const signs = [1, 1, 1, 1, 1].map((_, index) => (index < count ? 1 : 0))
      const unsafe = scored(RELATIONSHIP_RED_FLAGS, answers(RELATIONSHIP_RED_FLAGS, signs, [{ itemId: 'feel-unsafe', value: 1 }]))
      expect(unsafe.safety.alert).toBe(true)
      expect(unsafe.safety.resources.map((resource) => resource.name)).toEqual(domesticViolence)
      expect(unsafe.safety.reasons.map((reason) => reason.kind)).toEqual(['domestic-violence'])
      expect(unsafe.score).toBe(count) // the safety question is not counted
      for (const extra of [[{ itemId: 'feel-unsafe', value: 0 }], []]) {
        expect(scored(RELATIONSHIP_RED_FLAGS, answers(RELATIONSHIP_RED_FLAGS, signs, extra)).safety.alert).toBe(false)
      }
    }
  })

  it('never alerts on the readiness checklist or the GAD-7 (they have no safety rules)', () => {
    for (let mask = 0; mask < 64; mask++) {
      const points = [0, 1, 2, 3, 4, 5].map((bit) => (mask >> bit) & 1)
      expect(scored(THERAPY_READINESS, answers(THERAPY_READINESS, points)).safety.alert).toBe(false)
    }
    for (const level of [0, 1, 2, 3]) expect(scored(GAD_7, answers(GAD_7, Array(7).fill(level))).safety.alert).toBe(false)
  })

  it('uses the configured resources, only those for the kind of risk, in the configured order', () => {
    const custom: CrisisResource[] = [
      { name: 'Samaritans', for: ['self-harm'], description: 'Call 116 123, free, any time.', call: '116 123' },
      { name: 'Refuge', for: ['domestic-violence'], description: 'Call 0808 2000 247.', call: '0808 2000 247' },
      { name: 'Emergency', for: ['self-harm', 'domestic-violence'], description: 'Call 999.', call: '999' },
    ]
    const result = scored(PHQ_9, answers(PHQ_9, [0, 0, 0, 0, 0, 0, 0, 0, 3]), custom)
    expect(result.safety.resources.map((resource) => resource.name)).toEqual(['Samaritans', 'Emergency'])
  })
})
