import type { InstrumentDefinition } from '../instrument-schema.js'
import { DIFFICULTY_OPTIONS, DIFFICULTY_QUESTION, frequencyItem, loinc, PFIZER_ATTRIBUTION } from './loinc.js'

/** GAD-7 (Spitzer, Kroenke, Williams & Löwe 2006). Wording and LOINC codes as in the domain notes (C.2). */
const item = (n: number, code: string, text: string) => frequencyItem('gad7', n, code, text)

export const GAD_7: InstrumentDefinition = {
  id: 'gad-7',
  version: 1,
  title: 'Generalized Anxiety Disorder scale (GAD-7)',
  shortTitle: 'GAD-7',
  kind: 'screener',
  description:
    'A seven-question screener for symptoms of anxiety over the last two weeks. Scores 0–21; higher scores mean more frequent symptoms.',
  instructions: 'Over the last 2 weeks, how often have you been bothered by the following problems?',
  disclaimer:
    'The GAD-7 is a screening questionnaire, not a diagnosis. Only a qualified health professional can diagnose an anxiety disorder; ' +
    'share your result with one if it concerns you.',
  source: {
    citation:
      'Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing generalized anxiety disorder: the GAD-7. Arch Intern Med 2006;166(10):1092–1097.',
    url: 'https://jamanetwork.com/journals/jamainternalmedicine/fullarticle/410326',
  },
  attribution: PFIZER_ATTRIBUTION,
  codes: {
    panel: loinc('69737-5', 'Generalized anxiety disorder 7 item (GAD-7)'),
    total: loinc('70274-6', 'Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]'),
  },
  items: [
    item(1, '69725-0', 'Feeling nervous, anxious, or on edge'),
    item(2, '68509-9', 'Not being able to stop or control worrying'),
    item(3, '69733-4', 'Worrying too much about different things'),
    item(4, '69734-2', 'Trouble relaxing'),
    item(5, '69735-9', 'Being so restless that it is hard to sit still'),
    item(6, '69689-8', 'Becoming easily annoyed or irritable'),
    item(7, '69736-7', 'Feeling afraid, as if something awful might happen'),
    {
      id: 'gad7-difficulty',
      text: DIFFICULTY_QUESTION,
      required: false,
      scored: false,
      reverseScored: false,
      options: DIFFICULTY_OPTIONS,
      // No LOINC code: LOINC's GAD-7 panel (69737-5) does not include the difficulty question.
      note: 'Recorded, not scored, as on the original form.',
    },
  ],
  scoring: { method: 'sum', description: 'Sum of items 1–7 (0–3 each), 0–21. The difficulty question is not scored.' },
  listEndorsedItems: false,
  bands: [
    { key: 'minimal', min: 0, max: 4, label: 'Minimal', interpretation: 'Your answers suggest few or no symptoms of anxiety over the last two weeks.' },
    {
      key: 'mild',
      min: 5,
      max: 9,
      label: 'Mild',
      interpretation:
        'Your answers suggest mild symptoms of anxiety. Keep an eye on them and take the questionnaire again in a few weeks; talking to a therapist can help if they weigh on you.',
    },
    {
      key: 'moderate',
      min: 10,
      max: 14,
      label: 'Moderate',
      interpretation:
        'Your answers suggest moderate symptoms of anxiety. A score of 10 or more is where clinicians usually look further, so consider speaking with a therapist or your doctor.',
    },
    {
      key: 'severe',
      min: 15,
      max: 21,
      label: 'Severe',
      interpretation: 'Your answers suggest severe symptoms of anxiety. Please talk with a doctor or a licensed therapist soon about how to get support.',
    },
  ],
  safetyRules: [],
  progress: {
    higherIsBetter: false,
    // Toussaint A, Hüsing P, Gumz A, et al. Sensitivity to change and minimal clinically important difference of the
    // 7-item Generalized Anxiety Disorder Questionnaire (GAD-7). J Affect Disord 2020;265:395–401: MCID 4 points.
    meaningfulChange: {
      points: 4,
      source:
        'Toussaint A, Hüsing P, Gumz A, Wingenfeld K, Härter M, Schramm E, Löwe B. Sensitivity to change and minimal clinically important difference of the ' +
        '7-item Generalized Anxiety Disorder Questionnaire (GAD-7). J Affect Disord 2020;265:395–401 (minimal clinically important difference: 4 points).',
    },
    reassessAfterDays: 14,
  },
}
