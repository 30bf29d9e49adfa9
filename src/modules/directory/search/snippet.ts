/**
 * `match.snippet`: an excerpt of a hit's bio with the words the query matched in `<mark>`, made in
 * Node from the bio the page already fetched. Postgres's ts_headline did this by re-parsing and
 * stemming every hit's whole bio, two thirds of a full-text page's statement (pgbench: 716 pages/s with
 * it, 1,996 without). Here only the words that could match are stemmed, by Postgres's own english
 * stemmer (`ts_lexize`), and each word's stem is remembered, so after a few pages no query is needed.
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

interface Token {
  start: number
  end: number
  lower: string
}

// Runs of letters and digits, as the text search parser splits words (apostrophes and hyphens split them too).
const WORD = /[\p{L}\p{N}]+/gu

/**
 * The snippet of each bio, in order.
 * @param lexemes what the query looks for (not what it excludes), as Postgres stemmed it
 */
export async function makeSnippets(bios: readonly string[], lexemes: readonly QueryLexeme[], stem: Stemmer): Promise<string[]> {
  const tokenized = bios.map(tokenize)
  // Only words that start like a query lexeme can stem to it: the english stemmer changes endings only.
  const candidates = new Set<string>()
  for (const tokens of tokenized) for (const token of tokens) if (couldMatch(token.lower, lexemes)) candidates.add(token.lower)
  const stems = candidates.size === 0 ? new Map<string, string | null>() : await stem([...candidates])
  return bios.map((bio, index) => {
    const tokens = tokenized[index] ?? []
    const matched = tokens.map((token) => {
      if (!candidates.has(token.lower)) return false
      // Words with digits go through the `simple` dictionary: lower case, unstemmed.
      const lexeme = /\p{N}/u.test(token.lower) ? token.lower : stems.get(token.lower)
      return lexeme != null && lexemes.some((query) => (query.prefix ? lexeme.startsWith(query.lexeme) : lexeme === query.lexeme))
    })
    return excerpt(bio, tokens, matched)
  })
}

function tokenize(bio: string): Token[] {
  const tokens: Token[] = []
  for (const match of bio.matchAll(WORD)) tokens.push({ start: match.index, end: match.index + match[0].length, lower: match[0].toLowerCase() })
  return tokens
}

function couldMatch(word: string, lexemes: readonly QueryLexeme[]): boolean {
  return lexemes.some(({ lexeme }) => {
    const length = Math.min(3, lexeme.length)
    return word.length >= length && word.slice(0, length) === lexeme.slice(0, length)
  })
}

/** The window of SNIPPET_WORDS words with the most matches (the earliest of equals), escaped, matches marked. */
function excerpt(bio: string, tokens: Token[], matched: boolean[]): string {
  if (tokens.length === 0) return escapeHtml(bio.slice(0, 200))
  let best = 0
  let bestCount = -1
  const starts = [0, ...matched.flatMap((isMatch, i) => (isMatch ? [Math.max(0, i - LEAD_WORDS)] : []))]
  for (const start of starts) {
    let count = 0
    for (let i = start; i < Math.min(tokens.length, start + SNIPPET_WORDS); i += 1) if (matched[i]) count += 1
    if (count > bestCount) {
      best = start
      bestCount = count
    }
  }
  const last = Math.min(tokens.length, best + SNIPPET_WORDS) - 1
  let html = ''
  let at = tokens[best]?.start ?? 0
  for (let i = best; i <= last; i += 1) {
    const token = tokens[i] as Token
    html += escapeHtml(bio.slice(at, token.start))
    const word = escapeHtml(bio.slice(token.start, token.end))
    html += matched[i] ? `<mark>${word}</mark>` : word
    at = token.end
  }
  // The punctuation right after the last word ("… and more.") reads better than a cut.
  const tail = /^[^\p{L}\p{N}\s]*/u.exec(bio.slice(at))?.[0] ?? ''
  return html + escapeHtml(tail)
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}
