import { describe, expect, it } from 'vitest'
import { toQuestionnaire, toQuestionnaireResponse } from '../../src/modules/assessments/fhir.js'
import type { InstrumentDefinition } from '../../src/modules/assessments/instrument-schema.js'
import { GAD_7 } from '../../src/modules/assessments/instruments/gad-7.js'
import { BUILT_IN_INSTRUMENTS } from '../../src/modules/assessments/instruments/index.js'
import { PHQ_9 } from '../../src/modules/assessments/instruments/phq-9.js'
import { questionnaireProblems, questionnaireResponseProblems } from '../helpers/fhir.js'

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

describe('the structural validator (so the tests above can fail)', () => {
  const questionnaire = toQuestionnaire(PHQ_9, BASE)
  const answers = PHQ_9.items.slice(0, 9).map((item) => ({ itemId: item.id, value: 0 }))
  const response = toQuestionnaireResponse(PHQ_9, { id: ID, takenAt: new Date('2026-11-26T09:30:00Z'), answers, score: 0 }, BASE)
  const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

  it('rejects broken Questionnaires', () => {
    const noStatus = clone(questionnaire) as unknown as Record<string, unknown>
    delete noStatus.status
    expect(questionnaireProblems(noStatus)).toContain('status is required, one of draft, active, retired, unknown')
    expect(questionnaireProblems({ ...clone(questionnaire), status: 'published' })).toHaveLength(1)
    expect(questionnaireProblems({ ...clone(questionnaire), subjectTypes: ['Patient'] })).toEqual(['Questionnaire: unknown element "subjectTypes"'])
    expect(questionnaireProblems({ ...clone(questionnaire), id: 'has space' })).toEqual(['id must match [A-Za-z0-9-.]{1,64}'])

    const duplicate = clone(questionnaire)
    duplicate.item[2]!.linkId = duplicate.item[1]!.linkId
    expect(questionnaireProblems(duplicate)).toEqual(['Questionnaire.item[2].linkId phq9-1 is not unique (que-2)'])

    const noLinkId = clone(questionnaire) as unknown as { item: Record<string, unknown>[] }
    delete noLinkId.item[1]!.linkId
    expect(questionnaireProblems(noLinkId)).toEqual(['Questionnaire.item[1].linkId is required'])

    const twoValues = clone(questionnaire) as unknown as { item: { answerOption?: Record<string, unknown>[] }[] }
    twoValues.item[1]!.answerOption![0]!.valueInteger = 0
    expect(questionnaireProblems(twoValues)).toEqual(['Questionnaire.item[1].answerOption[0] must have exactly one value[x]'])

    const optionsOnInteger = clone(questionnaire)
    optionsOnInteger.item[1]!.type = 'integer'
    expect(questionnaireProblems(optionsOnInteger)).toEqual(['Questionnaire.item[1]: only choice items take answer options (que-5)'])

    const requiredDisplay = clone(questionnaire)
    requiredDisplay.item[0]!.required = true
    expect(questionnaireProblems(requiredDisplay)).toEqual(['Questionnaire.item[0]: display items take no required/repeats (que-6)'])

    const badCoding = clone(questionnaire)
    badCoding.item[1]!.answerOption![0]!.valueCoding.system = 'loinc'
    expect(questionnaireProblems(badCoding)).toEqual(['Questionnaire.item[1].answerOption[0].valueCoding.system must be an absolute URI'])
  })

  it('rejects broken QuestionnaireResponses and answers that do not fit their items', () => {
    expect(questionnaireResponseProblems({ ...clone(response), status: 'done' }, questionnaire)).toHaveLength(1)
    expect(questionnaireResponseProblems({ ...clone(response), identifier: [response.identifier] })).toEqual(['identifier must be a single Identifier'])
    expect(questionnaireResponseProblems({ ...clone(response), authored: '26/11/2026' })).toEqual(['authored must be a FHIR dateTime'])

    const wrongType = clone(response) as unknown as { item: { answer: Record<string, unknown>[] }[] }
    wrongType.item[0]!.answer = [{ valueString: 'Not at all' }]
    expect(questionnaireResponseProblems(wrongType, questionnaire)).toEqual([
      "QuestionnaireResponse.item[0].answer[0]: valueString is not the type of the item's options (valueCoding)",
    ])
    const integerForChoice = clone(response) as unknown as { item: { answer: Record<string, unknown>[] }[] }
    integerForChoice.item.at(-1)!.answer = [{ valueCoding: { system: 'http://loinc.org', code: 'LA6568-5' } }]
    expect(questionnaireResponseProblems(integerForChoice, questionnaire)).toEqual([
      'QuestionnaireResponse.item[9].answer[0]: valueCoding does not fit an item of type integer',
    ])

    const notAnOption = clone(response)
    notAnOption.item[0]!.answer = [{ valueCoding: { system: 'http://loinc.org', code: 'LA9999-9' } }]
    expect(questionnaireResponseProblems(notAnOption, questionnaire)).toEqual([
      "QuestionnaireResponse.item[0].answer[0]: coding http://loinc.org|LA9999-9 is not one of the item's options",
    ])

    const unknown = clone(response)
    unknown.item[0]!.linkId = 'phq9-99'
    expect(questionnaireResponseProblems(unknown, questionnaire)).toEqual([
      'QuestionnaireResponse.item[0].linkId phq9-99 is not in the Questionnaire',
      'required item phq9-1 is not answered',
    ])

    const twoValues = clone(response) as unknown as { item: { answer: Record<string, unknown>[] }[] }
    twoValues.item[0]!.answer[0]!.valueInteger = 0
    expect(questionnaireResponseProblems(twoValues)).toEqual(['QuestionnaireResponse.item[0].answer[0] must have exactly one value[x]'])

    const answeredDisplay = clone(response)
    answeredDisplay.item.push({ linkId: 'instructions', text: 'x', answer: [{ valueInteger: 1 }] })
    expect(questionnaireResponseProblems(answeredDisplay, questionnaire)).toContain('QuestionnaireResponse.item[10]: display items take no answers')

    expect(questionnaireResponseProblems({ ...clone(response), questionnaire: `${BASE}/v1/instruments/phq-9/fhir|2` }, questionnaire)).toEqual([
      'questionnaire version 2 is not 1',
    ])
  })
})
