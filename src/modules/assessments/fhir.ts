import type { AnswerInput, FhirCoding, FhirQuestionnaire, FhirQuestionnaireItem, FhirQuestionnaireResponse } from './assessments-schemas.js'
import { type InstrumentDefinition, type InstrumentItem, itemPoints } from './instrument-schema.js'

/**
 * FHIR R4 views of instruments and results (http://hl7.org/fhir/R4/questionnaire.html,
 * questionnaireresponse.html), as the domain notes (C.7) describe: one `choice` item per question
 * with its LOINC code, answer options as Codings (LOINC answer codes where they exist) carrying
 * their points in the `ordinalValue` extension, and a read-only total-score item with the total's
 * LOINC code. Pure: the base URL comes in, so canonical URLs resolve to this deployment.
 */

export const FHIR_JSON = 'application/fhir+json'
const ORDINAL_VALUE = 'http://hl7.org/fhir/StructureDefinition/ordinalValue'
const TOTAL_SCORE_LINK_ID = 'total-score'
const INSTRUCTIONS_LINK_ID = 'instructions'

/** The Questionnaire's canonical URL: this deployment's FHIR view of the instrument. */
export const questionnaireUrl = (baseUrl: string, instrumentId: string): string => `${baseUrl.replace(/\/$/, '')}/v1/instruments/${instrumentId}/fhir`

/** A computable name (FHIR `name`: starts with a capital, then letters, digits and _). */
const computableName = (id: string): string =>
  id
    .split(/[^a-zA-Z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('')
    .replace(/^(\d)/, 'Q$1')

/** An option's Coding: its LOINC answer code, or a code in this instrument's own answer system. */
function optionCoding(baseUrl: string, instrument: InstrumentDefinition, option: InstrumentItem['options'][number]): FhirCoding {
  if (option.code) return { system: option.code.system, code: option.code.code, display: option.code.display ?? option.label }
  return { system: `${questionnaireUrl(baseUrl, instrument.id)}#answers`, code: String(option.value), display: option.label }
}

export function toQuestionnaire(instrument: InstrumentDefinition, baseUrl: string): FhirQuestionnaire {
  const items: FhirQuestionnaireItem[] = [
    { linkId: INSTRUCTIONS_LINK_ID, text: instrument.instructions, type: 'display' },
    ...instrument.items.map(
      (item): FhirQuestionnaireItem => ({
        linkId: item.id,
        ...(item.code ? { code: [{ ...item.code }] } : {}),
        text: item.text,
        type: 'choice',
        required: item.required,
        answerOption: item.options.map((option) => ({
          valueCoding: optionCoding(baseUrl, instrument, option),
          // The option's points: its value, or the mirror image for a reverse-scored item.
          extension: [{ url: ORDINAL_VALUE, valueDecimal: itemPoints(item, option.value) }],
        })),
      }),
    ),
    {
      linkId: TOTAL_SCORE_LINK_ID,
      ...(instrument.codes.total ? { code: [{ ...instrument.codes.total }] } : {}),
      text: `Total score (${instrument.scoring.description})`,
      type: 'integer',
      required: false,
      readOnly: true,
    },
  ]
  return {
    resourceType: 'Questionnaire',
    id: instrument.id,
    url: questionnaireUrl(baseUrl, instrument.id),
    version: String(instrument.version),
    name: computableName(instrument.id),
    title: instrument.title,
    status: 'active',
    subjectType: ['Patient'],
    publisher: 'Therapath',
    description: `${instrument.description}\n\n${instrument.disclaimer}\n\nSource: ${instrument.source.citation}`,
    ...(instrument.attribution ? { copyright: instrument.attribution } : {}),
    ...(instrument.codes.panel ? { code: [{ ...instrument.codes.panel }] } : {}),
    item: items,
  }
}

export function toQuestionnaireResponse(
  instrument: InstrumentDefinition,
  assessment: { id: string; takenAt: Date; answers: readonly AnswerInput[]; score: number },
  baseUrl: string,
): FhirQuestionnaireResponse {
  const byItem = new Map(assessment.answers.map((answer) => [answer.itemId, answer.value]))
  const answered = instrument.items.flatMap((item) => {
    const option = item.options.find((candidate) => candidate.value === byItem.get(item.id))
    return option ? [{ linkId: item.id, text: item.text, answer: [{ valueCoding: optionCoding(baseUrl, instrument, option) }] }] : []
  })
  return {
    resourceType: 'QuestionnaireResponse',
    id: assessment.id,
    identifier: { system: `${baseUrl.replace(/\/$/, '')}/v1/assessments`, value: assessment.id },
    questionnaire: `${questionnaireUrl(baseUrl, instrument.id)}|${instrument.version}`,
    status: 'completed',
    authored: assessment.takenAt.toISOString(),
    item: [...answered, { linkId: TOTAL_SCORE_LINK_ID, text: 'Total score', answer: [{ valueInteger: assessment.score }] }],
  }
}
