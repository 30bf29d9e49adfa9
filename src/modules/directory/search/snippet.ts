/**
 * `match.snippet`: an excerpt of a hit's bio with the words the query matched in `<mark>`, made in
 * Node from the bio the page already fetched. Postgres's ts_headline did this by re-parsing and
 * stemming every hit's whole bio, two thirds of a full-text page's statement (pgbench: 716 pages/s with
 * it, 1,996 without). Here only the words that could match are stemmed, by Postgres's own english
 * stemmer (`ts_lexize`), and each word's stem is remembered, so after a few pages no query is needed.
 * A bio is scanned once for word boundaries, and only the excerpt is cut, escaped and marked.
 */

/** Words of the excerpt at most (ts_headline's MaxWords was 35), and before the first match shown. */
export const SNIPPET_WORDS = 35
const LEAD_WORDS = 5

export interface QueryLexeme {
  lexeme: string
  prefix: boolean
}

/** Stems lower-case words as the english text search configuration does (null: a stop word). */
export type Stemmer = (words: string[]) => Promise<Map<string, string | null>>

// Words are runs of letters and digits, as the text search parser splits them (apostrophes and hyphens split them too).
const HAS_DIGIT = /\p{N}/u
const NEEDS_ESCAPE = /[&<>]/

/** A bio's words as offsets (start, end) in one array, and which of them may match the query. */
interface Scanned {
  bio: string
  bounds: number[]
  /** Indexes of words that start like a query lexeme, with their lower-case text. */
  candidates: { word: number; lower: string }[]
}

/**
 * The snippet of each bio, in order.
 * @param lexemes what the query looks for (not what it excludes), as Postgres stemmed it
 */
export async function makeSnippets(bios: readonly string[], lexemes: readonly QueryLexeme[], stem: Stemmer): Promise<string[]> {
  // Only words that start like a query lexeme can stem to it: the english stemmer changes endings only.
  const starts = [...new Set(lexemes.map(({ lexeme }) => lexeme.slice(0, 3)))]
  const scanned = bios.map((bio) => scan(bio, starts))
  const unknown = new Set<string>()
  for (const { candidates } of scanned) for (const { lower } of candidates) if (!HAS_DIGIT.test(lower)) unknown.add(lower)
  const stems = unknown.size === 0 ? new Map<string, string | null>() : await stem([...unknown])
  return scanned.map(({ bio, bounds, candidates }) => {
    const matched = new Set<number>()
    for (const { word, lower } of candidates) {
      // Words with digits go through the `simple` dictionary: lower case, unstemmed.
      const lexeme = HAS_DIGIT.test(lower) ? lower : stems.get(lower)
      if (lexeme != null && lexemes.some((query) => (query.prefix ? lexeme.startsWith(query.lexeme) : lexeme === query.lexeme))) matched.add(word)
    }
    return excerpt(bio, bounds, matched)
  })
}

const WORD_CHAR = /[\p{L}\p{N}]/u

/** Whether the character at `i` is a letter or digit: ASCII tested directly (a bio is scanned char by char, and allocating per character showed in the profile). */
function isWordChar(bio: string, i: number, code: number, wide: boolean): boolean {
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57)
  return WORD_CHAR.test(wide ? bio.slice(i, i + 2) : (bio[i] ?? ''))
}

function scan(bio: string, starts: readonly string[]): Scanned {
  const bounds: number[] = []
  const candidates: Scanned['candidates'] = []
  let start = -1
  for (let i = 0; i <= bio.length; i += 1) {
    const code = i < bio.length ? bio.charCodeAt(i) : 32
    // A surrogate pair is one character: test it whole, and step over its second half.
    const wide = code >= 0xd800 && code <= 0xdbff && i + 1 < bio.length
    const inWord = i < bio.length && isWordChar(bio, i, code, wide)
    if (inWord && start < 0) start = i
    if (!inWord && start >= 0) {
      const word = bounds.length / 2
      bounds.push(start, i)
      for (const prefix of starts) {
        if (i - start >= prefix.length && bio.slice(start, start + prefix.length).toLowerCase() === prefix) {
          candidates.push({ word, lower: bio.slice(start, i).toLowerCase() })
          break
        }
      }
      start = -1
    }
    if (wide && inWord) i += 1
  }
  return { bio, bounds, candidates }
}

/** The window of SNIPPET_WORDS words with the most matches (the earliest of equals), escaped, matches marked. */
function excerpt(bio: string, bounds: number[], matched: ReadonlySet<number>): string {
  const words = bounds.length / 2
  if (words === 0) return escapeHtml(bio.slice(0, 200))
  let best = 0
  let bestCount = -1
  for (const start of [0, ...[...matched].sort((a, b) => a - b).map((word) => Math.max(0, word - LEAD_WORDS))]) {
    let count = 0
    for (const word of matched) if (word >= start && word < start + SNIPPET_WORDS) count += 1
    if (count > bestCount) {
      best = start
      bestCount = count
    }
  }
  const last = Math.min(words, best + SNIPPET_WORDS) - 1
  const from = bounds[2 * best] ?? 0
  let to = bounds[2 * last + 1] ?? bio.length
  // The punctuation right after the last word ("… and more.") reads better than a cut.
  while (to < bio.length && /[^\p{L}\p{N}\s]/u.test(bio[to] ?? '')) to += 1
  let html = ''
  let at = from
  for (const word of [...matched].filter((w) => w >= best && w <= last).sort((a, b) => a - b)) {
    const start = bounds[2 * word] ?? 0
    const end = bounds[2 * word + 1] ?? 0
    html += `${escapeHtml(bio.slice(at, start))}<mark>${escapeHtml(bio.slice(start, end))}</mark>`
    at = end
  }
  return html + escapeHtml(bio.slice(at, to))
}

function escapeHtml(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}
