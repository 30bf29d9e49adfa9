import { describe, expect, it } from 'vitest'
import { BUILT_IN_INSTRUMENTS } from '../../src/modules/assessments/instruments/index.js'
import { RECOMMENDATION_RULES, RecommendationRuleSchema } from '../../src/modules/assessments/recommendation-rules.js'
import { directorySearchHref, recommend } from '../../src/modules/assessments/recommendations.js'
import type { AnswerInput } from '../../src/modules/assessments/assessments-schemas.js'

const yes = (...ids: string[]): AnswerInput[] => ids.map((itemId) => ({ itemId, value: 1 }))
const rulesFor = (instrumentId: string, bandKey: string, answers: AnswerInput[] = []) =>
  recommend(RECOMMENDATION_RULES, { instrumentId, bandKey, answers }).map((recommendation) => recommendation.ruleId)

describe('recommendation rules (data)', () => {
  it('are well-formed and refer to real instruments, bands and items', () => {
    const ids = new Set<string>()
    for (const rule of RECOMMENDATION_RULES) {
      expect(RecommendationRuleSchema.safeParse(rule).success, rule.id).toBe(true)
      expect(ids.has(rule.id), `${rule.id} twice`).toBe(false)
      ids.add(rule.id)
      const instrument = BUILT_IN_INSTRUMENTS.find((candidate) => candidate.id === rule.instrumentId)
      expect(instrument, rule.id).toBeDefined()
      for (const band of rule.bands ?? []) expect(instrument?.bands.map((candidate) => candidate.key), rule.id).toContain(band)
      for (const itemId of rule.anyItem?.itemIds ?? []) expect(instrument?.items.map((item) => item.id), rule.id).toContain(itemId)
      expect(rule.modalities.length + rule.specialties.length, `${rule.id} filters nothing`).toBeGreaterThan(0)
      expect(rule.rationale.length, rule.id).toBeGreaterThan(40)
    }
  })

  it('send a ready person with relationship patterns to attachment-based, EFT and CBT', () => {
    const [first] = recommend(RECOMMENDATION_RULES, { instrumentId: 'therapy-readiness', bandKey: 'ready', answers: yes('stuck-in-arguments', 'partner-dismisses', 'deserve-support') })
    expect(first).toMatchObject({
      ruleId: 'readiness-relationship-patterns',
      modalities: ['attachment-based', 'eft', 'cbt'],
      specialties: ['relationship-issues', 'attachment', 'communication'],
      clientFocus: ['individuals'],
      directorySearch: {
        href: '/v1/therapists?modality=attachment-based,eft,cbt&modalityMatch=any&specialty=relationship-issues,attachment,communication&clientFocus=individuals',
      },
    })
  })

  it('follow the statements and signs that applied', () => {
    expect(rulesFor('therapy-readiness', 'ready', yes('doubt-worth', 'understand-triggers', 'deserve-support'))).toEqual([
      'readiness-article-approaches',
      'readiness-self-worth',
      'readiness-self-regulation',
    ])
    expect(rulesFor('therapy-readiness', 'not-yet', yes('stuck-in-arguments'))).toEqual(['readiness-gentle-start'])
    expect(rulesFor('relationship-red-flags', 'one', yes('managing-their-moods'))).toEqual(['red-flags-over-functioning'])
    expect(rulesFor('relationship-red-flags', 'several', yes('mocks-growth', 'broken-promises'))).toEqual(['red-flags-pattern', 'red-flags-self-worth'])
    expect(rulesFor('relationship-red-flags', 'none', yes('feel-unsafe'))).toEqual(['red-flags-unsafe'])
    expect(rulesFor('relationship-red-flags', 'none', [{ itemId: 'feel-unsafe', value: 0 }])).toEqual([])
  })

  it('match symptom bands: anxiety → CBT and ACT; depression by severity; nothing for minimal', () => {
    for (const band of ['mild', 'moderate', 'severe']) {
      const [anxiety] = recommend(RECOMMENDATION_RULES, { instrumentId: 'gad-7', bandKey: band, answers: [] })
      expect(anxiety?.modalities, band).toEqual(expect.arrayContaining(['cbt', 'act']))
      expect(anxiety?.specialties).toEqual(['anxiety'])
    }
    expect(rulesFor('gad-7', 'minimal')).toEqual([])
    expect(rulesFor('phq-9', 'none-minimal')).toEqual([])
    expect(rulesFor('phq-9', 'mild')).toEqual(['phq9-mild'])
    for (const band of ['moderate', 'moderately-severe', 'severe']) expect(rulesFor('phq-9', band)).toEqual(['phq9-moderate-or-more'])
  })

  it('give every band of every instrument something, except where nothing is wrong', () => {
    const allowedEmpty = new Set(['phq-9/none-minimal', 'gad-7/minimal', 'relationship-red-flags/none'])
    for (const instrument of BUILT_IN_INSTRUMENTS) {
      for (const band of instrument.bands) {
        const everything = instrument.items.map((item) => ({ itemId: item.id, value: 0 }))
        const found = rulesFor(instrument.id, band.key, everything)
        const key = `${instrument.id}/${band.key}`
        if (allowedEmpty.has(key)) expect(found, key).toEqual([])
        else if (instrument.id !== 'relationship-red-flags' || band.key !== 'one') expect(found.length, key).toBeGreaterThan(0)
      }
    }
  })
})

describe('directory search links', () => {
  it('comma-separate values, state modalityMatch only when it matters, and encode', () => {
    expect(directorySearchHref({ modalities: ['cbt'], specialties: [], clientFocus: [] })).toBe('/v1/therapists?modality=cbt')
    expect(directorySearchHref({ modalities: [], specialties: ['trauma', 'relationship-issues'], clientFocus: ['individuals'] })).toBe(
      '/v1/therapists?specialty=trauma,relationship-issues&clientFocus=individuals',
    )
    expect(directorySearchHref({ modalities: ['a b', 'c&d'], specialties: [], clientFocus: [] })).toBe('/v1/therapists?modality=a%20b,c%26d&modalityMatch=any')
    expect(directorySearchHref({ modalities: [], specialties: [], clientFocus: [] })).toBe('/v1/therapists')
  })
})
