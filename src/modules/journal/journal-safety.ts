import type { CrisisResource } from '../../lib/crisis-resources.js'
import { hasCrisisLanguage } from '../../lib/crisis-language.js'
import { type SafetyBlock, safetyBlock } from '../../lib/safety.js'
import type { Content } from './journal-codec.js'

/**
 * The journal's side of the safety block: an entry whose text speaks of suicide or self-harm gets the
 * same block as a PHQ-9 item 9 answer. The text is screened in memory, before it is encrypted; only
 * the yes/no is kept (the row's `crisis_flag`), never what matched or where.
 */

export const JOURNAL_SAFETY_MESSAGE =
  'Something you wrote sounds like you may be thinking about suicide or hurting yourself. You deserve support right now: you can talk to someone at any hour, for free and in confidence.'

export const JOURNAL_SAFETY_NOTICE =
  'Therapath looks for certain words, not meaning, so it can be wrong either way; your entry was saved as you wrote it. If you are ever in immediate danger, contact emergency services.'

/** Every piece of text an entry holds, joined so a phrase cannot span two fields. */
const textsOf = (content: Content): string[] =>
  [content.body, content.title, content.conflict?.trigger, content.conflict?.responseNote, content.conflict?.outcome].filter(
    (text): text is string => typeof text === 'string' && text.length > 0,
  )

/**
 * Whether the entry's text has crisis language. Never throws and never blocks the write: should the
 * screening itself fail, the entry counts as flagged (a needless resource over a missed one).
 */
export function screenEntry(content: Content): boolean {
  try {
    return textsOf(content).some(hasCrisisLanguage)
  } catch {
    return true
  }
}

/** The block a write's response carries, from the entry's flag. */
export function journalSafety(flagged: boolean, resources: readonly CrisisResource[]): SafetyBlock {
  return safetyBlock(
    flagged ? [{ ruleId: 'journal-crisis-language', kind: 'self-harm', itemId: 'entry', message: JOURNAL_SAFETY_MESSAGE }] : [],
    resources,
    JOURNAL_SAFETY_NOTICE,
  )
}
