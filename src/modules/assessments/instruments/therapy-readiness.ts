import type { InstrumentDefinition } from '../instrument-schema.js'
import { YES_NO_OPTIONS } from './loinc.js'

/**
 * The readiness checklist of the seed article ("Checklist: Is Therapy Right for You Right Now?"),
 * its six statements verbatim. The article's rule is the cut-off: "If three or more apply, therapy
 * could be a transformative step." It is a reflection aid, not a validated measure (domain notes
 * C.6 found no validated, freely licensed readiness checklist), so results never read as a diagnosis.
 */
const statement = (id: string, text: string) => ({ id, text, required: true, scored: true, reverseScored: false, options: YES_NO_OPTIONS })

export const THERAPY_READINESS: InstrumentDefinition = {
  id: 'therapy-readiness',
  version: 1,
  title: 'Is Therapy Right for You Right Now?',
  shortTitle: 'Therapy readiness',
  kind: 'checklist',
  description:
    'A six-statement checklist for people thinking about going to therapy, including on their own when a partner will not join. ' +
    'It counts how many statements apply; three or more suggest therapy could be a transformative step now.',
  instructions: 'Use this simple checklist to assess your readiness: answer Yes for each statement that applies to you.',
  disclaimer: 'This checklist is a reflection aid, not a clinical test or a diagnosis.',
  source: { citation: 'The article on going to therapy alone when a partner will not join (Therapath’s source material), section “Checklist: Is Therapy Right for You Right Now?”.' },
  attribution: null,
  codes: {},
  items: [
    statement('stuck-in-arguments', 'I feel stuck in repetitive arguments or emotional disconnection.'),
    statement('doubt-worth', 'I often doubt my worth or sanity in the relationship.'),
    statement('partner-dismisses', 'My partner dismisses emotional conversations or shuts down.'),
    statement('understand-triggers', 'I want to understand my triggers and improve self-regulation.'),
    statement('carrying-weight-alone', 'I’m tired of carrying the emotional weight alone.'),
    statement('deserve-support', 'I believe I deserve support, regardless of my partner’s choices.'),
  ],
  scoring: { method: 'count', countAtLeast: 1, description: 'The number of statements that apply (answered Yes), 0–6.' },
  listEndorsedItems: true,
  bands: [
    {
      key: 'not-yet',
      min: 0,
      max: 2,
      label: 'Fewer than three apply',
      interpretation:
        'Fewer than three of these statements apply to you right now. That is not a verdict on you or on your relationship, and you do not need to be in crisis to start: ' +
        'if something here weighs on you, talking it through with a therapist can still help. Take the checklist again whenever things change.',
    },
    {
      key: 'ready',
      min: 3,
      max: 6,
      label: 'Three or more apply',
      interpretation:
        'Three or more of these statements apply to you, so therapy could be a transformative step now, with or without your partner. ' +
        'Going on your own is not selfish and does not mean the relationship is failing: it is a way to gain clarity, set boundaries and grow.',
    },
  ],
  safetyRules: [],
  progress: {
    higherIsBetter: null,
    meaningfulChange: null,
    // The article: "After several months, evaluate".
    reassessAfterDays: 90,
  },
}
