import type { InstrumentItem } from '../instrument-schema.js'

/**
 * LOINC codes shared by several instruments. Answer codes are checked against LOINC's own FHIR
 * Questionnaires for the PHQ-9 (44249-1) and GAD-7 (69737-5) panels (http://loinc.org/q/44249-1,
 * as stored in `jmandel/ktc-questionnaire-starters:fhir-loinc/`).
 */
export const LOINC = 'http://loinc.org'

const loinc = (code: string, display: string) => ({ system: LOINC, code, display })

/** LOINC answer list LL358-3, the 0–3 frequency scale of the PHQ-9 and GAD-7. */
export const FREQUENCY_OPTIONS: InstrumentItem['options'] = [
  { value: 0, label: 'Not at all', code: loinc('LA6568-5', 'Not at all') },
  { value: 1, label: 'Several days', code: loinc('LA6569-3', 'Several days') },
  { value: 2, label: 'More than half the days', code: loinc('LA6570-1', 'More than half the days') },
  { value: 3, label: 'Nearly every day', code: loinc('LA6571-9', 'Nearly every day') },
]

/** The difficulty question's answers. The LA codes are not in scale order: LOINC's own panel pairs them so. */
export const DIFFICULTY_OPTIONS: InstrumentItem['options'] = [
  { value: 0, label: 'Not difficult at all', code: loinc('LA6572-7', 'Not difficult at all') },
  { value: 1, label: 'Somewhat difficult', code: loinc('LA6573-5', 'Somewhat difficult') },
  { value: 2, label: 'Very difficult', code: loinc('LA6575-0', 'Very difficult') },
  { value: 3, label: 'Extremely difficult', code: loinc('LA6574-3', 'Extremely difficult') },
]

/** Yes/No (LOINC LA33-6, LA32-8) for checklists: "yes" counts. */
export const YES_NO_OPTIONS: InstrumentItem['options'] = [
  { value: 0, label: 'No', code: loinc('LA32-8', 'No') },
  { value: 1, label: 'Yes', code: loinc('LA33-6', 'Yes') },
]

/**
 * A required, scored question on the 0–3 frequency scale (PHQ-9, GAD-7), `${prefix}-${n}`, with its
 * LOINC question code. Its display is LOINC's business, so none is claimed here.
 */
export const frequencyItem = (prefix: string, n: number, code: string, text: string): InstrumentItem => ({
  id: `${prefix}-${n}`,
  text,
  required: true,
  scored: true,
  reverseScored: false,
  options: FREQUENCY_OPTIONS,
  code: { system: LOINC, code },
})

export const DIFFICULTY_QUESTION =
  'If you checked off any problems, how difficult have these problems made it for you to do your work, take care of things at home, or get along with other people?'

/** The notice Pfizer, the copyright holder of the PHQ-9 and GAD-7, asks to be shown with them. */
export const PFIZER_ATTRIBUTION =
  'Copyright © Pfizer Inc. Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an educational grant from Pfizer Inc. ' +
  'No permission required to reproduce, translate, display or distribute.'

export { loinc }
