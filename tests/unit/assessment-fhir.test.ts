import { describe, expect, it } from 'vitest'
import { toQuestionnaire, toQuestionnaireResponse } from '../../src/modules/assessments/fhir.js'
import type { InstrumentDefinition } from '../../src/modules/assessments/instrument-schema.js'
import { GAD_7 } from '../../src/modules/assessments/instruments/gad-7.js'
import { BUILT_IN_INSTRUMENTS } from '../../src/modules/assessments/instruments/index.js'
import { PHQ_9 } from '../../src/modules/assessments/instruments/phq-9.js'
import { jsonSchemaProblems, medplumProblems, questionnaireProblems, questionnaireResponseProblems } from '../helpers/fhir.js'

const BASE = 'https://api.therapath.example'
const ID = '3f6c1d2e-8a4b-4c5d-9e7f-0a1b2c3d4e5f'

describe('FHIR R4 mapping', () => {
  it('maps every instrument to a well-formed Questionnaire', () => {
    for (const instrument of BUILT_IN_INSTRUMENTS) expect(questionnaireProblems(toQuestionnaire(instrument, BASE)), instrument.id).toEqual([])
  })

  it('carries LOINC codes, points as ordinalValue, and a read-only total', () => {
    const questionnaire = toQuestionnaire(PHQ_9, BASE)
    expect(questionnaire).toMatchObject({
      url: `${BASE}/v1/instruments/phq-9/fhir`,
      version: '1',
      name: 'Phq9',
      status: 'active',
      code: [{ system: 'http://loinc.org', code: '44249-1' }],
    })
    expect(questionnaire.copyright).toContain('Pfizer')
    const item9 = questionnaire.item.find((item) => item.linkId === 'phq9-9')
    expect(item9?.code).toEqual([{ system: 'http://loinc.org', code: '44260-8' }])
    expect(item9?.answerOption?.[3]).toEqual({
      valueCoding: { system: 'http://loinc.org', code: 'LA6571-9', display: 'Nearly every day' },
      extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/ordinalValue', valueDecimal: 3 }],
    })
    expect(questionnaire.item.at(-1)).toMatchObject({ linkId: 'total-score', type: 'integer', readOnly: true, code: [{ code: '44261-6' }] })
    expect(questionnaire.item[0]).toMatchObject({ linkId: 'instructions', type: 'display', text: PHQ_9.instructions })
  })

  it('gives a reverse-scored item’s options their points, not their values, as ordinalValue', () => {
    const reversed: InstrumentDefinition = {
      ...GAD_7,
      id: 'reversed',
      items: GAD_7.items.map((item) => (item.id === 'gad7-1' ? { ...item, reverseScored: true } : item)),
    }
    const ordinals = (linkId: string) =>
      toQuestionnaire(reversed, BASE)
        .item.find((item) => item.linkId === linkId)
        ?.answerOption?.map((option) => [option.valueCoding.code, option.extension[0]?.valueDecimal])
    expect(ordinals('gad7-1')).toEqual([
      ['LA6568-5', 3], // "Not at all" scores 3 when reversed
      ['LA6569-3', 2],
      ['LA6570-1', 1],
      ['LA6571-9', 0],
    ])
    expect(ordinals('gad7-2')).toEqual([
      ['LA6568-5', 0],
      ['LA6569-3', 1],
      ['LA6570-1', 2],
      ['LA6571-9', 3],
    ])
  })

  it('maps a result to a QuestionnaireResponse that fits its Questionnaire', () => {
    const answers = PHQ_9.items.map((item, index) => ({ itemId: item.id, value: index % 4 }))
    const response = toQuestionnaireResponse(PHQ_9, { id: ID, takenAt: new Date('2026-11-26T09:30:00Z'), answers, score: 13 }, BASE)
    expect(questionnaireResponseProblems(response, toQuestionnaire(PHQ_9, BASE))).toEqual([])
    expect(response).toMatchObject({ questionnaire: `${BASE}/v1/instruments/phq-9/fhir|1`, status: 'completed', authored: '2026-11-26T09:30:00.000Z' })
    expect(response.item.at(-1)).toEqual({ linkId: 'total-score', text: 'Total score', answer: [{ valueInteger: 13 }] })
    // The difficulty question (value 1, index 9 % 4) uses its own LOINC answer list.
    expect(response.item.find((item) => item.linkId === 'phq9-difficulty')?.answer).toEqual([
      { valueCoding: { system: 'http://loinc.org', code: 'LA6573-5', display: 'Somewhat difficult' } },
    ])
  })

  it('leaves unanswered optional items out', () => {
    // The PHQ-9 without its optional difficulty question.
    expect(PHQ_9.items.find((item) => item.id === 'phq9-difficulty')?.required).toBe(false)
    const answers = PHQ_9.items.filter((item) => item.required).map((item) => ({ itemId: item.id, value: 1 }))
    const response = toQuestionnaireResponse(PHQ_9, { id: ID, takenAt: new Date(), answers, score: 9 }, BASE)
    const linkIds = response.item.map((item) => item.linkId)
    expect(linkIds).not.toContain('phq9-difficulty')
    expect(linkIds).toEqual([...answers.map((answer) => answer.itemId), 'total-score'])
    expect(questionnaireResponseProblems(response, toQuestionnaire(PHQ_9, BASE))).toEqual([])
  })
})

describe('the FHIR validators (so the tests above can fail)', () => {
  const questionnaire = toQuestionnaire(PHQ_9, BASE)
  const answers = PHQ_9.items.slice(0, 9).map((item) => ({ itemId: item.id, value: 0 }))
  const response = toQuestionnaireResponse(PHQ_9, { id: ID, takenAt: new Date('2026-11-26T09:30:00Z'), answers, score: 0 }, BASE)
  const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T
  type Loose = Record<string, unknown> & { item: (Record<string, unknown> & { answerOption?: Record<string, unknown>[]; answer?: Record<string, unknown>[] })[] }
  const broken = <T>(resource: T, change: (copy: Loose) => void): Loose => {
    const copy = clone(resource) as unknown as Loose
    change(copy)
    return copy
  }

  /**
   * Deliberately broken resources, and which validator catches each (measured; see tests/helpers/fhir.ts).
   * medplum: structure, cardinality and invariants; the JSON schema: codes and patterns. Together they
   * catch every case but the duplicate linkId, which questionnaireProblems checks itself. Three rules the
   * home-made validator enforced are not FHIR R4 errors and are gone: answer options on an integer item
   * (R4 que-5 allows them), `system: "loinc"` (a valid relative uri) and a non-computable `name` (que-0 is
   * a warning in R4).
   */
  const cases: [string, Loose, { medplum: boolean; schema: boolean }][] = [
    ['Questionnaire without status', broken(questionnaire, (q) => delete q.status), { medplum: true, schema: false }],
    ['Questionnaire with status "published"', broken(questionnaire, (q) => (q.status = 'published')), { medplum: false, schema: true }],
    ['Questionnaire with an unknown element', broken(questionnaire, (q) => (q.subjectTypes = ['Patient'])), { medplum: true, schema: true }],
    ['Questionnaire with a space in its id', broken(questionnaire, (q) => (q.id = 'has space')), { medplum: false, schema: true }],
    ['item without linkId', broken(questionnaire, (q) => delete q.item[1]!.linkId), { medplum: true, schema: false }],
    ['answer option with two value[x]', broken(questionnaire, (q) => (q.item[1]!.answerOption![0]!.valueInteger = 0)), { medplum: true, schema: false }],
    ['required display item (que-6)', broken(questionnaire, (q) => (q.item[0]!.required = true)), { medplum: true, schema: false }],
    ['display item with nested items (que-1)', broken(questionnaire, (q) => (q.item[0]!.item = [{ linkId: 'n', type: 'string' }])), { medplum: true, schema: false }],
    ['unknown item type', broken(questionnaire, (q) => (q.item[1]!.type = 'choices')), { medplum: true, schema: true }],
    ['QuestionnaireResponse with status "done"', broken(response, (r) => (r.status = 'done')), { medplum: false, schema: true }],
    ['identifier as an array', broken(response, (r) => (r.identifier = [r.identifier])), { medplum: true, schema: false }],
    ['authored not a dateTime', broken(response, (r) => (r.authored = '26/11/2026')), { medplum: true, schema: true }],
    ['answer with two value[x]', broken(response, (r) => (r.item[0]!.answer![0]!.valueInteger = 0)), { medplum: true, schema: false }],
    ['answer and nested item both (qrs-1)', broken(response, (r) => (r.item[0]!.item = [{ linkId: 'z' }])), { medplum: true, schema: false }],
    ['questionnaire not a canonical', broken(response, (r) => (r.questionnaire = 'not a canonical')), { medplum: true, schema: true }],
  ]

  it('accepts what we emit, with neither validator finding anything', () => {
    for (const resource of [questionnaire, response]) {
      expect(medplumProblems(resource)).toEqual([])
      expect(jsonSchemaProblems(resource)).toEqual([])
    }
  })

  it.each(cases)('%s: caught as measured', (_name, resource, caught) => {
    expect(medplumProblems(resource).length > 0).toBe(caught.medplum)
    expect(jsonSchemaProblems(resource).length > 0).toBe(caught.schema)
    const all = resource.resourceType === 'Questionnaire' ? questionnaireProblems(resource) : questionnaireResponseProblems(resource)
    expect(all.length).toBeGreaterThan(0)
  })

  it('catches a repeated linkId itself (que-2: neither validator does)', () => {
    const duplicate = broken(questionnaire, (q) => (q.item[2]!.linkId = q.item[1]!.linkId))
    expect([...medplumProblems(duplicate), ...jsonSchemaProblems(duplicate)]).toEqual([])
    expect(questionnaireProblems(duplicate)).toEqual(['linkId phq9-1 is not unique (que-2)'])
  })

  it('rejects answers that do not fit their items', () => {
    const wrongType = broken(response, (r) => (r.item[0]!.answer = [{ valueString: 'Not at all' }]))
    expect(questionnaireResponseProblems(wrongType, questionnaire)).toEqual([
      "QuestionnaireResponse.item[0].answer[0]: valueString is not the type of the item's options (valueCoding)",
    ])
    const codingForInteger = broken(response, (r) => (r.item.at(-1)!.answer = [{ valueCoding: { system: 'http://loinc.org', code: 'LA6568-5' } }]))
    expect(questionnaireResponseProblems(codingForInteger, questionnaire)).toEqual([
      'QuestionnaireResponse.item[9].answer[0]: valueCoding does not fit an item of type integer',
    ])
    const notAnOption = broken(response, (r) => (r.item[0]!.answer = [{ valueCoding: { system: 'http://loinc.org', code: 'LA9999-9' } }]))
    expect(questionnaireResponseProblems(notAnOption, questionnaire)).toEqual([
      "QuestionnaireResponse.item[0].answer[0]: coding http://loinc.org|LA9999-9 is not one of the item's options",
    ])
    const unknown = broken(response, (r) => (r.item[0]!.linkId = 'phq9-99'))
    expect(questionnaireResponseProblems(unknown, questionnaire)).toEqual([
      'QuestionnaireResponse.item[0].linkId phq9-99 is not in the Questionnaire',
      'required item phq9-1 is not answered',
    ])
    const repeated = broken(response, (r) => (r.item[1]!.linkId = r.item[0]!.linkId))
    expect(questionnaireResponseProblems(repeated, questionnaire)).toContain('QuestionnaireResponse.item[1].linkId phq9-1 repeats among siblings (qrs-2)')
    const answeredDisplay = broken(response, (r) => r.item.push({ linkId: 'instructions', text: 'x', answer: [{ valueInteger: 1 }] }))
    expect(questionnaireResponseProblems(answeredDisplay, questionnaire)).toContain('QuestionnaireResponse.item[10]: display items take no answers')
    const otherVersion = broken(response, (r) => (r.questionnaire = `${BASE}/v1/instruments/phq-9/fhir|2`))
    expect(questionnaireResponseProblems(otherVersion, questionnaire)).toEqual(['questionnaire version 2 is not 1'])
  })
})
