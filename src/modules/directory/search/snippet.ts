/**
 * `match.snippet`: an excerpt of a hit's bio with the words the query matched in `<mark>`, made in
 * Node from the bio the page already fetched. Postgres's ts_headline did this by re-parsing and
 * stemming every hit's whole bio, two thirds of a full-text page's statement (pgbench: 716 pages/s with
 * it, 1,996 without). Here the bio is searched (indexOf) for words that start like a query lexeme, only
 * those are stemmed, by Postgres's own english stemmer (`ts_lexize`; each word's stem is remembered, so
 * after a few pages no query is needed), and only the excerpt is cut into words, escaped and marked:
 * SNIPPET_WORDS words from a few before the first match (or from the start when only the name or the
 * tags matched).
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
const WORD_CHAR = /[\p{L}\p{N}]/u
const HAS_DIGIT = /\p{N}/u
const NEEDS_ESCAPE = /[&<>]/

/** Whether the UTF-16 unit at `i` is (part of) a letter or digit; ASCII is tested directly, without allocating. */
function isWordAt(text: string, i: number): boolean {
  const code = text.charCodeAt(i)
  if (Number.isNaN(code)) return false
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57)
  // A surrogate pair is one character: test it whole, from either half.
  if (code >= 0xdc00 && code <= 0xdfff) return WORD_CHAR.test(text.slice(i - 1, i + 1))
  if (code >= 0xd800 && code <= 0xdbff) return WORD_CHAR.test(text.slice(i, i + 2))
  return WORD_CHAR.test(text[i] ?? '')
}

interface Candidate {
  start: number
  end: number
  lower: string
}

/**
 * The snippet of each bio, in order.
 * @param lexemes what the query looks for (not what it excludes), as Postgres stemmed it
 */
export async function makeSnippets(bios: readonly string[], lexemes: readonly QueryLexeme[], stem: Stemmer): Promise<string[]> {
  // Only words that start like a query lexeme can stem to it: the english stemmer changes endings only.
  const starts = [...new Set(lexemes.map(({ lexeme }) => lexeme.slice(0, 3)))].filter((start) => start.length > 0)
  const found = bios.map((bio) => candidates(bio, starts))
  const unknown = new Set<string>()
  for (const words of found) for (const { lower } of words) if (!HAS_DIGIT.test(lower)) unknown.add(lower)
  const stems = unknown.size === 0 ? new Map<string, string | null>() : await stem([...unknown])
  return bios.map((bio, i) => {
    const matched = (found[i] ?? []).filter(({ lower }) => {
      // Words with digits go through the `simple` dictionary: lower case, unstemmed.
      const lexeme = HAS_DIGIT.test(lower) ? lower : stems.get(lower)
      return lexeme != null && lexemes.some((query) => (query.prefix ? lexeme.startsWith(query.lexeme) : lexeme === query.lexeme))
    })
    return excerpt(bio, matched)
  })
}

/** The words of a bio that start like one of `starts` (lower case), in order. */
function candidates(bio: string, starts: readonly string[]): Candidate[] {
  const lower = bio.toLowerCase()
  // Lower-casing changed the length (a few characters, e.g. İ): offsets would not line up; compare word by word.
  const text = lower.length === bio.length ? lower : null
  const words: Candidate[] = []
  if (text === null) {
    for (let i = 0; i < bio.length; ) {
      if (!isWordAt(bio, i)) {
        i += 1
        continue
      }
      let end = i
      while (end < bio.length && isWordAt(bio, end)) end += 1
      const word = bio.slice(i, end).toLowerCase()
      if (starts.some((start) => word.startsWith(start))) words.push({ start: i, end, lower: word })
      i = end
    }
    return words
  }
  for (const start of starts) {
    for (let at = text.indexOf(start); at >= 0; at = text.indexOf(start, at + 1)) {
      if (at > 0 && isWordAt(text, at - 1)) continue
      let end = at + start.length
      while (end < text.length && isWordAt(text, end)) end += 1
      if (!words.some((word) => word.start === at)) words.push({ start: at, end, lower: text.slice(at, end) })
    }
  }
  return words.sort((a, b) => a.start - b.start)
}

/** SNIPPET_WORDS words from LEAD_WORDS before the first match, escaped, with the matches marked. */
function excerpt(bio: string, matched: readonly Candidate[]): string {
  let from = matched[0]?.start ?? 0
  // Back over LEAD_WORDS words.
  for (let lead = 0; lead < LEAD_WORDS && from > 0; lead += 1) {
    let i = from
    while (i > 0 && !isWordAt(bio, i - 1)) i -= 1
    while (i > 0 && isWordAt(bio, i - 1)) i -= 1
    if (i === from) break
    from = i
  }
  while (from < bio.length && !isWordAt(bio, from)) from += 1
  // Forward over SNIPPET_WORDS words, then the punctuation right after the last ("… and more.").
  let to = from
  for (let words = 0; words < SNIPPET_WORDS && to < bio.length; words += 1) {
    while (to < bio.length && !isWordAt(bio, to)) to += 1
    while (to < bio.length && isWordAt(bio, to)) to += 1
  }
  while (to < bio.length && /[^\p{L}\p{N}\s]/u.test(bio[to] ?? '')) to += 1
  if (from >= to) return escapeHtml(bio.slice(0, 200))
  let html = ''
  let at = from
  for (const word of matched) {
    if (word.start < from || word.end > to) continue
    html += `${escapeHtml(bio.slice(at, word.start))}<mark>${escapeHtml(bio.slice(word.start, word.end))}</mark>`
    at = word.end
  }
  return html + escapeHtml(bio.slice(at, to))
}

function escapeHtml(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}
