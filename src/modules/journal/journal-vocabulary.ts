/**
 * The journal's two controlled vocabularies. They are closed lists so that insights can count and
 * compare them over time ("fewer `withdrew`, more `named-my-need`"); anything else belongs in the
 * entry's free text. Changing a word here is a breaking change for stored entries and integrators:
 * add words, never rename or remove them.
 */

/**
 * Emotion words, roughly in the four quadrants of the mood meter How We Feel uses (pleasant or
 * unpleasant, higher or lower energy), chosen for the feelings the seed article names around a
 * relationship where one partner works on themselves: lonely, hurt, drained, unheard, anxious,
 * guilty; and calm, hopeful, confident, relieved.
 */
export const EMOTIONS = [
  // unpleasant, higher energy
  'anxious',
  'angry',
  'frustrated',
  'resentful',
  'jealous',
  'overwhelmed',
  'afraid',
  'guilty',
  'ashamed',
  // unpleasant, lower energy
  'sad',
  'hurt',
  'lonely',
  'drained',
  'numb',
  'disappointed',
  'unheard',
  'insecure',
  'confused',
  // pleasant, higher energy
  'hopeful',
  'proud',
  'confident',
  'determined',
  'grateful',
  // pleasant, lower energy
  'calm',
  'relieved',
  'content',
  'connected',
  'understood',
  'safe',
] as const
export type Emotion = (typeof EMOTIONS)[number]

/**
 * How the user responded in a conflict. `reactive` are the patterns people come to therapy to change
 * (withdrawal and stonewalling, escalation, and Gottman's criticism and defensiveness, appeasing,
 * pursuing); `regulated` are what the article describes Maya learning: pausing to regulate, naming a
 * need, setting a boundary, listening, repairing. Insights count each group per period.
 */
export const CONFLICT_RESPONSES = {
  withdrew: { group: 'reactive', description: 'Pulled away: went quiet, left the room, avoided the subject.' },
  'shut-down': { group: 'reactive', description: 'Froze or stonewalled; could not respond.' },
  escalated: { group: 'reactive', description: 'Raised the volume or the stakes: shouting, threats, sharper words.' },
  criticized: { group: 'reactive', description: "Attacked the other person's character rather than the behaviour." },
  defended: { group: 'reactive', description: 'Defended or counter-attacked instead of hearing the complaint.' },
  appeased: { group: 'reactive', description: 'Gave in or smoothed it over to keep the peace, at my own expense.' },
  pursued: { group: 'reactive', description: 'Chased reassurance or a resolution the other person was not ready for.' },
  paused: { group: 'regulated', description: 'Took a break to calm down, and came back to it.' },
  'named-my-need': { group: 'regulated', description: 'Said what I needed, plainly and without blame.' },
  'set-a-boundary': { group: 'regulated', description: 'Said what I will and will not accept, and held to it.' },
  listened: { group: 'regulated', description: 'Listened to understand and reflected back what I heard.' },
  repaired: { group: 'regulated', description: 'Made or accepted a repair attempt: apologised, softened, used humour.' },
} as const satisfies Record<string, { group: 'reactive' | 'regulated'; description: string }>

export type ConflictResponse = keyof typeof CONFLICT_RESPONSES
export const CONFLICT_RESPONSE_VALUES = Object.keys(CONFLICT_RESPONSES) as [ConflictResponse, ...ConflictResponse[]]

/** Whether a stored value is a word of the vocabulary (a row could hold one written by a later version). */
export const isConflictResponse = (value: string | null): value is ConflictResponse => value !== null && Object.hasOwn(CONFLICT_RESPONSES, value)
export const isEmotion = (value: string): value is Emotion => (EMOTIONS as readonly string[]).includes(value)

/** The group a response belongs to. */
export const groupOf = (response: ConflictResponse) => CONFLICT_RESPONSES[response].group

/** The vocabulary as a Markdown list, for OpenAPI descriptions. */
export const conflictResponsesMarkdown = (): string =>
  CONFLICT_RESPONSE_VALUES.map((value) => `- \`${value}\` (${CONFLICT_RESPONSES[value].group}): ${CONFLICT_RESPONSES[value].description}`).join('\n')
