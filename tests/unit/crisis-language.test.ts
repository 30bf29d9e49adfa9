import { describe, expect, it } from 'vitest'
import { hasCrisisLanguage, matchedPhrases, PHRASES } from '../../src/lib/crisis-language.js'
import { CRISIS_FRESH, CRISIS_HELD_OUT, CRISIS_SET } from '../fixtures/crisis-language-set.js'

/**
 * The journal's crisis-language detector, measured on the labelled sentences in
 * tests/fixtures/crisis-language-set.ts. The thresholds are the measured figures (README, "Crisis
 * language in the journal"), rounded down: a change to the phrase list that loses a sentence fails here.
 */

function measure(set: ReadonlyArray<readonly [string, boolean]>) {
  let tp = 0
  let fp = 0
  let fn = 0
  let tn = 0
  const misses: string[] = []
  for (const [sentence, label] of set) {
    const flagged = hasCrisisLanguage(sentence)
    if (flagged && label) tp++
    else if (flagged && !label) {
      fp++
      misses.push(`false positive: ${sentence}`)
    } else if (!flagged && label) {
      fn++
      misses.push(`missed: ${sentence}`)
    } else tn++
  }
  return { n: set.length, positives: tp + fn, negatives: fp + tn, precision: tp / (tp + fp), recall: tp / (tp + fn), misses }
}

describe('crisis language in the journal', () => {
  it('the labelled set is at least 200 sentences, both kinds well represented', () => {
    const all = [...CRISIS_SET, ...CRISIS_HELD_OUT, ...CRISIS_FRESH]
    expect(CRISIS_SET.length).toBeGreaterThanOrEqual(200)
    expect(all.filter(([, label]) => label).length).toBeGreaterThanOrEqual(150)
    expect(all.filter(([, label]) => !label).length).toBeGreaterThanOrEqual(150)
    expect(new Set(all.map(([sentence]) => sentence)).size).toBe(all.length)
  })

  it('meets the measured precision and recall on the main set (236 sentences: 115 positive, 121 hard negatives)', () => {
    const result = measure(CRISIS_SET)
    expect(result).toMatchObject({ n: 236, positives: 115, negatives: 121 })
    // Measured: precision 0.991 (1 false positive: a suicide-prevention fundraiser), recall 1.000.
    expect(result.recall, result.misses.join('\n')).toBeGreaterThanOrEqual(0.99)
    expect(result.precision, result.misses.join('\n')).toBeGreaterThanOrEqual(0.99)
  })

  it('meets the measured precision and recall on every labelled sentence (348: 170 positive, 178 negative)', () => {
    const result = measure([...CRISIS_SET, ...CRISIS_HELD_OUT, ...CRISIS_FRESH])
    // Measured: precision 0.988 (2 false positives), recall 0.971 (5 missed, all from the last set written).
    expect(result.recall, result.misses.join('\n')).toBeGreaterThanOrEqual(0.97)
    expect(result.precision, result.misses.join('\n')).toBeGreaterThanOrEqual(0.98)
  })

  it('shows resources for a negated statement, but not for "hurt my feelings"', () => {
    expect(hasCrisisLanguage("I'm not going to hurt myself")).toBe(true)
    expect(hasCrisisLanguage('I would never kill myself.')).toBe(true)
    expect(hasCrisisLanguage('He hurt my feelings.')).toBe(false)
    expect(hasCrisisLanguage('This commute is killing me.')).toBe(false)
  })

  it('reads curly apostrophes, capitals and line breaks like plain text', () => {
    expect(hasCrisisLanguage('I DON\u2019T WANT TO\nLIVE ANYMORE')).toBe(true)
    expect(hasCrisisLanguage('Everyone would be better off\n\nwithout me')).toBe(true)
  })

  it('finds a phrase anywhere in a long entry, and every phrase has an id', () => {
    const long = `${'We argued about the weekend again and I went quiet. '.repeat(380)}I want to die.`
    expect(long.length).toBeGreaterThan(19_000)
    expect(hasCrisisLanguage(long)).toBe(true)
    expect(new Set(PHRASES.map((phrase) => phrase.id)).size).toBe(PHRASES.length)
    expect(matchedPhrases('I cut myself shaving')).toEqual([])
  })
})
