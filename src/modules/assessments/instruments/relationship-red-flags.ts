import type { InstrumentDefinition } from '../instrument-schema.js'
import { YES_NO_OPTIONS } from './loinc.js'

/**
 * The seed article's red flags ("Signs You Might Need to Reevaluate the Relationship"), its five
 * signs verbatim, counted. The article gives no cut-off, only that the signs matter as they add up,
 * so the bands are ours (see `bands`): none, one (noticed, not yet a pattern), two or three (a
 * pattern: re-evaluate with a therapist's help), four or five (most of the list).
 *
 * The five signs describe an unresponsive or dismissive partner, not danger, so a count of them
 * cannot tell whether someone is unsafe. We add one question of our own, unscored and optional, that
 * asks directly; a Yes raises a safety alert with domestic-violence resources, whatever the count.
 */
const sign = (id: string, text: string) => ({ id, text, required: true, scored: true, reverseScored: false, options: YES_NO_OPTIONS })

export const RELATIONSHIP_RED_FLAGS: InstrumentDefinition = {
  id: 'relationship-red-flags',
  version: 1,
  title: 'Signs You Might Need to Reevaluate the Relationship',
  shortTitle: 'Relationship red flags',
  kind: 'checklist',
  description:
    'Five red flags that individual therapy can bring to light. The result names the signs that are present; as they add up, ' +
    'it suggests re-evaluating the relationship with a therapist’s help.',
  instructions: 'Pay attention to these red flags: answer Yes for each one that is true of your relationship.',
  disclaimer: 'This checklist is a reflection aid, not a clinical test or a diagnosis, and not a judgement of your partner or your relationship.',
  source: { citation: 'The article on going to therapy alone when a partner will not join (Therapath’s source material), section “Signs You Might Need to Reevaluate the Relationship”.' },
  attribution: null,
  codes: {},
  items: [
    sign('emotionally-drained', 'You consistently feel emotionally drained after interactions.'),
    sign('mocks-growth', 'Your partner mocks or minimizes your efforts to grow.'),
    sign('broken-promises', 'There’s a pattern of broken promises (“I’ll work on it”) with no action.'),
    sign('managing-their-moods', 'You feel responsible for managing their moods or behaviors.'),
    sign('refuses-support', 'They refuse any form of support—therapy, coaching, or even reading a book on emotional intelligence.'),
    {
      id: 'feel-unsafe',
      text: 'You sometimes feel afraid of your partner, or unsafe at home.',
      required: false,
      scored: false,
      reverseScored: false,
      options: YES_NO_OPTIONS,
      note: 'Added by Therapath as a safety check; not one of the article’s signs and not counted. A Yes brings domestic-violence resources.',
    },
  ],
  scoring: { method: 'count', countAtLeast: 1, description: 'The number of the five signs that are present (answered Yes), 0–5. The safety question is not counted.' },
  listEndorsedItems: true,
  bands: [
    {
      key: 'none',
      min: 0,
      max: 0,
      label: 'No signs',
      interpretation: 'None of these signs is present right now. Every relationship has hard stretches; if that changes, take the checklist again.',
    },
    {
      key: 'one',
      min: 1,
      max: 1,
      label: 'One sign',
      interpretation:
        'One sign is present. On its own it can be part of a hard stretch rather than a pattern, but it is worth noticing, ' +
        'and worth raising with your partner or a therapist if it keeps happening.',
    },
    {
      key: 'several',
      min: 2,
      max: 3,
      label: 'Several signs',
      interpretation:
        'Several signs are present. As they add up they point to a pattern rather than a bad week, and it may be time to re-evaluate the relationship, ' +
        'ideally with a therapist’s help, so that what you decide comes from clarity rather than from pain or fear.',
    },
    {
      key: 'most',
      min: 4,
      max: 5,
      label: 'Most of the signs',
      interpretation:
        'Most of the signs are present: the pattern the article describes when it suggests re-evaluating the relationship. ' +
        'Therapy can help you decide whether to continue investing in hope or redirect that energy toward your own future, at your own pace.',
    },
  ],
  safetyRules: [
    {
      id: 'feels-unsafe',
      kind: 'domestic-violence',
      itemId: 'feel-unsafe',
      atLeast: 1,
      message:
        'You said you sometimes feel afraid of your partner or unsafe at home. That matters more than any count here. ' +
        'You can talk to someone trained to help, for free and in confidence, and make a plan that keeps you safe.',
    },
  ],
  progress: {
    higherIsBetter: false,
    meaningfulChange: null,
    reassessAfterDays: 90,
  },
}
