import type { InstrumentDefinition } from '../instrument-schema.js'
import { DIFFICULTY_OPTIONS, DIFFICULTY_QUESTION, frequencyItem, LOINC, loinc, PFIZER_ATTRIBUTION } from './loinc.js'

/**
 * PHQ-9 (Kroenke, Spitzer & Williams 2001). Wording and LOINC codes as in the domain notes (C.1),
 * bands as in the original paper. Item 9 asks about thoughts of death or self-harm: any answer
 * above "Not at all" raises a safety alert whatever the total, as clinical practice does (C.4).
 */
const item = (n: number, code: string, text: string) => frequencyItem('phq9', n, code, text)

export const PHQ_9: InstrumentDefinition = {
  id: 'phq-9',
  version: 1,
  title: 'Patient Health Questionnaire (PHQ-9)',
  shortTitle: 'PHQ-9',
  kind: 'screener',
  description:
    'A nine-question screener for symptoms of depression over the last two weeks, widely used in primary care. ' +
    'Scores 0–27; higher scores mean more frequent symptoms.',
  instructions: 'Over the last 2 weeks, how often have you been bothered by any of the following problems?',
  disclaimer:
    'The PHQ-9 is a screening questionnaire, not a diagnosis. Only a qualified health professional can diagnose depression; ' +
    'share your result with one if it concerns you.',
  source: {
    citation: 'Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression severity measure. J Gen Intern Med 2001;16(9):606–613.',
    url: 'https://pmc.ncbi.nlm.nih.gov/articles/PMC1495268/',
  },
  attribution: PFIZER_ATTRIBUTION,
  codes: {
    panel: loinc('44249-1', 'PHQ-9 quick depression assessment panel'),
    total: loinc('44261-6', 'Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]'),
  },
  items: [
    item(1, '44250-9', 'Little interest or pleasure in doing things'),
    item(2, '44255-8', 'Feeling down, depressed, or hopeless'),
    item(3, '44259-0', 'Trouble falling or staying asleep, or sleeping too much'),
    item(4, '44254-1', 'Feeling tired or having little energy'),
    item(5, '44251-7', 'Poor appetite or overeating'),
    item(6, '44258-2', 'Feeling bad about yourself — or that you are a failure or have let yourself or your family down'),
    item(7, '44252-5', 'Trouble concentrating on things, such as reading the newspaper or watching television'),
    item(
      8,
      '44253-3',
      'Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual',
    ),
    item(9, '44260-8', 'Thoughts that you would be better off dead, or of hurting yourself in some way'),
    {
      id: 'phq9-difficulty',
      text: DIFFICULTY_QUESTION,
      required: false,
      scored: false,
      reverseScored: false,
      options: DIFFICULTY_OPTIONS,
      code: { system: LOINC, code: '69722-7' },
      note: 'Recorded, not scored: it describes how much the problems get in the way, not how severe they are.',
    },
  ],
  scoring: { method: 'sum', description: 'Sum of items 1–9 (0–3 each), 0–27. The difficulty question is not scored.' },
  listEndorsedItems: false,
  bands: [
    {
      key: 'none-minimal',
      min: 0,
      max: 4,
      label: 'None to minimal',
      interpretation: 'Your answers suggest few or no symptoms of depression over the last two weeks.',
    },
    {
      key: 'mild',
      min: 5,
      max: 9,
      label: 'Mild',
      interpretation:
        'Your answers suggest mild symptoms of depression. It is common to keep an eye on them and take the questionnaire again in a few weeks; ' +
        'talking to a therapist can help if they weigh on you.',
    },
    {
      key: 'moderate',
      min: 10,
      max: 14,
      label: 'Moderate',
      interpretation:
        'Your answers suggest moderate symptoms of depression. At this level clinicians usually talk about treatment, ' +
        'so consider speaking with a therapist or your doctor.',
    },
    {
      key: 'moderately-severe',
      min: 15,
      max: 19,
      label: 'Moderately severe',
      interpretation:
        'Your answers suggest moderately severe symptoms of depression. Please talk with a doctor or a licensed therapist soon about how to get support.',
    },
    {
      key: 'severe',
      min: 20,
      max: 27,
      label: 'Severe',
      interpretation:
        'Your answers suggest severe symptoms of depression. Please reach out to a doctor or mental health professional promptly; you do not have to manage this alone.',
    },
  ],
  safetyRules: [
    {
      id: 'phq9-item9',
      kind: 'self-harm',
      itemId: 'phq9-9',
      atLeast: 1,
      message:
        'You said you have had thoughts that you would be better off dead or of hurting yourself. You deserve support right now: ' +
        'you can talk to someone at any hour, for free and in confidence.',
    },
  ],
  progress: {
    higherIsBetter: false,
    // Löwe B, Unützer J, Callahan CM, Perkins AJ, Kroenke K. Monitoring depression treatment outcomes with the
    // Patient Health Questionnaire-9. Med Care 2004;42(12):1194–1201: minimal clinically important difference 5 points.
    meaningfulChange: {
      points: 5,
      source:
        'Löwe B, Unützer J, Callahan CM, Perkins AJ, Kroenke K. Monitoring depression treatment outcomes with the Patient Health Questionnaire-9. ' +
        'Med Care 2004;42(12):1194–1201 (minimal clinically important difference: 5 points).',
    },
    reassessAfterDays: 14,
  },
}
