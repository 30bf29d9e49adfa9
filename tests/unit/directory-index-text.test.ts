import { describe, expect, it } from 'vitest'
import { compareCodePoints } from '../../src/modules/directory/index/directory-index.js'
import { parseTsQuery } from '../../src/modules/directory/search/text-query.js'
import { Random } from '../helpers/random.js'

/**
 * The pure parts of the index's text handling, on hand-picked cases (the integration test
 * directory-index-postgres checks both against Postgres on generated ones).
 */

describe('parseTsQuery', () => {
  const word = (lexeme: string, prefix = false) => ({ op: 'word', lexeme, prefix })

  it('reads operators with Postgres’s precedence: ! then <-> then & then |', () => {
    expect(parseTsQuery("'a' | 'b' & 'c'").tree).toEqual({ op: 'or', args: [word('a'), { op: 'and', args: [word('b'), word('c')] }] })
    expect(parseTsQuery("!'a' & 'b'").tree).toEqual({ op: 'and', args: [{ op: 'not', arg: word('a') }, word('b')] })
    expect(parseTsQuery("'a' & 'b' & 'c'").tree).toEqual({ op: 'and', args: [{ op: 'and', args: [word('a'), word('b')] }, word('c')] })
    expect(parseTsQuery("!( 'a' | 'b' ) & 'c':*").tree).toEqual({
      op: 'and',
      args: [{ op: 'not', arg: { op: 'or', args: [word('a'), word('b')] } }, word('c', true)],
    })
    expect(parseTsQuery("!!'a'").tree).toEqual({ op: 'not', arg: { op: 'not', arg: word('a') } })
  })

  it('reads doubled quotes and backslashes inside a lexeme', () => {
    expect(parseTsQuery("'it''s' & 'a\\\\b':*").tree).toEqual({ op: 'and', args: [word("it's"), word('a\\b', true)] })
    expect(parseTsQuery("'''' | '\\\\'").tree).toEqual({ op: 'or', args: [word("'"), word('\\')] })
  })

  it('sends phrases and weights to SQL, and lists the lexemes to highlight (not the negated ones)', () => {
    for (const text of ["'a' <-> 'b'", "'a' <2> 'b' & 'c'", "'a':A", "'a':*AB | 'b'", "!( 'a' <-> 'b' )", "( 'a' | 'b' ) <-> 'c'"]) {
      expect(parseTsQuery(text).supported, text).toBe(false)
    }
    expect(parseTsQuery("'a' & !'b' & !!'c' | 'd':*").lexemes).toEqual([
      { lexeme: 'a', prefix: false },
      { lexeme: 'c', prefix: false },
      { lexeme: 'd', prefix: true },
    ])
    expect(parseTsQuery('')).toEqual({ printed: '', tree: { op: 'empty' }, supported: true, lexemes: [], negates: false })
  })

  it('refuses text Postgres never prints', () => {
    for (const text of ["'a' &", "'a", "'a' 'b'", "( 'a'", "'a\\b'", '&', "'a' <x> 'b'"]) expect(() => parseTsQuery(text), text).toThrow(/unexpected tsquery text/)
  })
})

/** Code points, compared one by one: the reference for "C" collation over UTF-8. */
function byCodePoints(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0) ?? 0)
  const y = [...b].map((c) => c.codePointAt(0) ?? 0)
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0)
  return x.length - y.length
}

describe('compareCodePoints', () => {
  const ALPHABET = ['a', 'A', 'é', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uf8ff', '\ufffd', '\uffff', '😀', '𝒜', '\u{10000}', '\u{10ffff}', '\u{1f600}\u{1f601}']

  it('orders as code points do, not as UTF-16 units do', () => {
    expect(compareCodePoints('\u{10000}', '\uffff')).toBeGreaterThan(0)
    expect('\u{10000}' < '\uffff').toBe(true)
    expect(compareCodePoints('a\ue000', 'a😀')).toBeLessThan(0)
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0)
    expect(compareCodePoints('', '')).toBe(0)
  })

  it('agrees in sign with a code point comparison, and is antisymmetric, on random strings', () => {
    const r = new Random(12)
    for (let n = 0; n < 20_000; n += 1) {
      const a = Array.from({ length: r.int(0, 5) }, () => r.pick(ALPHABET)).join('')
      const b = r.chance(0.1) ? a : Array.from({ length: r.int(0, 5) }, () => r.pick(ALPHABET)).join('')
      const sign = Math.sign(compareCodePoints(a, b)) + 0
      expect(sign, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(Math.sign(byCodePoints(a, b)) + 0)
      expect(Math.sign(compareCodePoints(b, a)) + 0, `${JSON.stringify(b)} vs ${JSON.stringify(a)}`).toBe(-sign + 0)
    }
  })
})

describe('twoDecimals', () => {
  it('rounds a decimal text to two places half away from zero, keeping trailing zeros, as numeric round(x, 2) writes it', async () => {
    const { twoDecimals } = await import('../../src/modules/directory/search/hits.js')
    expect(twoDecimals('12.345000000000')).toBe('12.35')
    expect(twoDecimals('12.344999999999')).toBe('12.34')
    expect(twoDecimals('5.00000000000000')).toBe('5.00')
    expect(twoDecimals('0.00000000000000')).toBe('0.00')
    expect(twoDecimals('0.005')).toBe('0.01')
    expect(twoDecimals('0.004999')).toBe('0.00')
    expect(twoDecimals('9.999')).toBe('10.00')
    expect(twoDecimals('1.50000000000000e-13')).toBe('0.00')
  })
})
