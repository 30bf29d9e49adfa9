/**
 * A text search as Postgres reads it. Postgres parses and stems `q` (websearch_to_tsquery, plus the
 * prefix form of the last word, see search-sql.ts) and prints the tsquery; this reads that print back
 * into a tree, so the directory index can evaluate it over the lexemes Postgres stored for each
 * therapist and match exactly the rows `search_vector @@ tsquery` matches.
 *
 * Phrases (`<->`, `<N>`) depend on word positions the index does not keep, and weight restrictions
 * (`'word':A`) on weights: a query with either is answered by Postgres instead (`supported` false).
 */
export type TextQuery =
  | { op: 'word'; lexeme: string; prefix: boolean }
  | { op: 'not'; arg: TextQuery }
  | { op: 'and' | 'or'; args: [TextQuery, TextQuery] }
  | { op: 'phrase'; args: TextQuery[] }
  | { op: 'weighted'; lexeme: string; prefix: boolean }
  | { op: 'empty' }

export interface ParsedTextQuery {
  /** The tsquery as Postgres printed it (it reads it back the same, e.g. for ts_rank). */
  printed: string
  tree: TextQuery
  /** The index can evaluate it: no phrase or weight restriction. */
  supported: boolean
  /** The lexemes the query looks for (not negated), for highlighting snippets. */
  lexemes: { lexeme: string; prefix: boolean }[]
  /** It excludes something (has a NOT): a match of part of the text no longer implies a match of all of it. */
  negates: boolean
}

/**
 * Reads Postgres's text form of a tsquery (`'grief' & 'divorc':*`, `!'onlin'`, `( 'a' | 'b' ) <-> 'c'`).
 * @throws Error on text Postgres would not print (a bug, not bad input: the input is Postgres's output)
 */
export function parseTsQuery(text: string): ParsedTextQuery {
  let at = 0
  const skipSpaces = () => {
    while (text[at] === ' ') at += 1
  }
  const fail = (what: string): never => {
    throw new Error(`unexpected tsquery text at ${at} (${what}): ${text}`)
  }

  // Precedence, loosest first: | then & then <-> (phrase) then ! (prefix operator).
  const parseOr = (): TextQuery => {
    let left = parseAnd()
    for (skipSpaces(); text[at] === '|'; skipSpaces()) {
      at += 1
      left = { op: 'or', args: [left, parseAnd()] }
    }
    return left
  }
  const parseAnd = (): TextQuery => {
    let left = parsePhrase()
    for (skipSpaces(); text[at] === '&'; skipSpaces()) {
      at += 1
      left = { op: 'and', args: [left, parsePhrase()] }
    }
    return left
  }
  const parsePhrase = (): TextQuery => {
    const args = [parseUnary()]
    for (skipSpaces(); text[at] === '<'; skipSpaces()) {
      const end = text.indexOf('>', at)
      if (end < 0 || !/^<(-|\d+)>$/.test(text.slice(at, end + 1))) fail('phrase operator')
      at = end + 1
      args.push(parseUnary())
    }
    return args.length === 1 ? (args[0] as TextQuery) : { op: 'phrase', args }
  }
  const parseUnary = (): TextQuery => {
    skipSpaces()
    if (text[at] === '!') {
      at += 1
      return { op: 'not', arg: parseUnary() }
    }
    if (text[at] === '(') {
      at += 1
      const inner = parseOr()
      skipSpaces()
      if (text[at] !== ')') fail('closing parenthesis')
      at += 1
      return inner
    }
    if (text[at] !== "'") fail('operand')
    at += 1
    let lexeme = ''
    for (;;) {
      const char = text[at]
      if (char === undefined) fail('unterminated operand')
      if (char === "'" || char === '\\') {
        // Postgres doubles quotes and backslashes inside an operand.
        if (text[at + 1] === char) {
          lexeme += char
          at += 2
          continue
        }
        if (char === '\\') fail('lone backslash')
        at += 1
        break
      }
      lexeme += char
      at += 1
    }
    let prefix = false
    let weighted = false
    if (text[at] === ':') {
      at += 1
      while (at < text.length && /[*A-D]/.test(text[at] ?? '')) {
        if (text[at] === '*') prefix = true
        else weighted = true
        at += 1
      }
    }
    return { op: weighted ? 'weighted' : 'word', lexeme, prefix }
  }

  skipSpaces()
  if (at >= text.length) return { printed: text, tree: { op: 'empty' }, supported: true, lexemes: [], negates: false }
  const tree = parseOr()
  skipSpaces()
  if (at < text.length) fail('trailing text')
  return { printed: text, tree, supported: isSupported(tree), lexemes: positiveLexemes(tree, false), negates: hasNot(tree) }
}

function isSupported(node: TextQuery): boolean {
  switch (node.op) {
    case 'word':
    case 'empty':
      return true
    case 'not':
      return isSupported(node.arg)
    case 'and':
    case 'or':
      return isSupported(node.args[0]) && isSupported(node.args[1])
    case 'phrase':
    case 'weighted':
      return false
  }
}

function hasNot(node: TextQuery): boolean {
  switch (node.op) {
    case 'not':
      return true
    case 'and':
    case 'or':
    case 'phrase':
      return node.args.some(hasNot)
    case 'word':
    case 'weighted':
    case 'empty':
      return false
  }
}

function positiveLexemes(node: TextQuery, negated: boolean): { lexeme: string; prefix: boolean }[] {
  switch (node.op) {
    case 'word':
    case 'weighted':
      return negated ? [] : [{ lexeme: node.lexeme, prefix: node.prefix }]
    case 'not':
      return positiveLexemes(node.arg, !negated)
    case 'and':
    case 'or':
    case 'phrase':
      return node.args.flatMap((arg) => positiveLexemes(arg, negated))
    case 'empty':
      return []
  }
}
