import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { renderErrorsDoc } from '../../scripts/errors-doc.js'
import { FIELD_CODES, OAUTH_ERRORS, PROBLEM_CODES } from '../../src/lib/error-catalogue.js'

/**
 * The catalogue (src/lib/error-catalogue.ts) must list every code the code base can answer with. The
 * scan reads src/ for the places a code is written:
 * - `code: 'x'` and `code = 'x'` (problem parts, field errors, constructor defaults), and on a line that
 *   assigns `code =`, every snake_case literal (a ternary choosing a code);
 * - every literal argument of a call to a function whose name ends in `Error` or `Problem`
 *   (`new ConflictError(detail, 'email_taken')`, `queryError('invalid_near', …)`), across lines, when it
 *   is snake_case with an underscore (single words there are nouns: `NotFoundError('therapist')`);
 * - the values of Fastify's error-code map (`FST_ERR_…: 'x'`).
 * A code found must be a problem code, a field code or an OAuth error; each problem code must be found.
 */

const SRC = fileURLToPath(new URL('../../src', import.meta.url))
const CODE_SHAPE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/
const SNAKE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(full)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : []
  })
}

/** The top-level arguments of the call whose `(` is at `open`, as source text (strings and nesting respected). */
function callArguments(text: string, open: number): string[] {
  const args: string[] = []
  let depth = 0
  let current = ''
  let quote: string | null = null
  for (let i = open + 1; i < text.length; i++) {
    const char = text[i] ?? ''
    if (quote) {
      current += char
      if (char === '\\') current += text[++i] ?? ''
      else if (char === quote) quote = null
      continue
    }
    if (char === "'" || char === '"' || char === '`') quote = char
    else if ('([{'.includes(char)) depth++
    else if (')]}'.includes(char)) {
      if (depth === 0) {
        args.push(current.trim())
        return args
      }
      depth--
    } else if (char === ',' && depth === 0) {
      args.push(current.trim())
      current = ''
      continue
    }
    current += char
  }
  return args
}

/** Every code written in one file, with where. */
function codesIn(text: string): string[] {
  const found: string[] = []
  for (const match of text.matchAll(/\bcode\s*[:=]\s*'([^']+)'/g)) if (CODE_SHAPE.test(match[1] ?? '')) found.push(match[1] ?? '')
  for (const match of text.matchAll(/\bcode\s*=(?!=)([^\n]*)/g)) {
    for (const literal of (match[1] ?? '').matchAll(/'([^']+)'/g)) if (SNAKE.test(literal[1] ?? '')) found.push(literal[1] ?? '')
  }
  for (const match of text.matchAll(/(?:\b\w*(?:Error|Problem)|\bsuper)\(/g)) {
    for (const arg of callArguments(text, (match.index ?? 0) + match[0].length - 1)) {
      const literal = /^'([^']*)'$/.exec(arg)?.[1]
      if (literal !== undefined && SNAKE.test(literal)) found.push(literal)
    }
  }
  for (const match of text.matchAll(/\bFST_ERR_[A-Z_]+:\s*'([^']+)'/g)) found.push(match[1] ?? '')
  // A status and its code side by side: [408, 'request_timeout', …]
  for (const match of text.matchAll(/\[\s*[1-5]\d\d,\s*'([^']+)'/g)) if (SNAKE.test(match[1] ?? '')) found.push(match[1] ?? '')
  return found
}

const known = new Set([...Object.keys(PROBLEM_CODES), ...Object.keys(FIELD_CODES), ...Object.keys(OAUTH_ERRORS)])

describe('error catalogue', () => {
  const used = new Map<string, string[]>()
  for (const file of sourceFiles(SRC)) {
    if (file.endsWith(path.join('lib', 'error-catalogue.ts'))) continue
    for (const code of codesIn(readFileSync(file, 'utf8'))) used.set(code, [...(used.get(code) ?? []), path.relative(SRC, file)])
  }

  it('finds codes the way they are written', () => {
    const sample = [
      "throw new ConflictError('An account with this email already exists.', 'email_taken')",
      "new UnauthorizedError(\n  'Used a moment ago, by another request.',\n  'refresh_token_spent',\n)",
      "throw queryError('invalid_near', 'near', 'near must be \"lat,lon\".')",
      "const code = mapped ?? (status === 429 ? 'rate_limited' : 'bad_request')",
      "{ status: 404, code: 'not_found', title: 'Not Found' }",
      "throw new NotFoundError('therapist', id)",
      "data: { revokedReason: 'refresh_token_reuse' }",
    ].join('\n')
    expect(codesIn(sample).sort()).toEqual(['bad_request', 'email_taken', 'invalid_near', 'not_found', 'rate_limited', 'refresh_token_spent'])
  })

  it('lists every code used in src/', () => {
    const missing = [...used.entries()].filter(([code]) => !known.has(code)).map(([code, files]) => `${code} (${[...new Set(files)].join(', ')})`)
    expect(missing, 'add these to src/lib/error-catalogue.ts, then run `npm run errors:doc`').toEqual([])
  })

  it('lists no problem code that nothing answers with', () => {
    // precondition_failed is answered by the conditional-request helper through a shared constant.
    const unused = Object.keys(PROBLEM_CODES).filter((code) => !used.has(code))
    expect(unused).toEqual([])
  })

  it('says for each code what it means and what to do', () => {
    for (const [code, entry] of Object.entries({ ...PROBLEM_CODES, ...FIELD_CODES, ...OAUTH_ERRORS })) {
      expect(entry.meaning.length, code).toBeGreaterThan(10)
      expect(entry.action.length, code).toBeGreaterThan(3)
    }
  })

  it('is published as docs/errors.md exactly as `npm run errors:doc` writes it', () => {
    const committed = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
    expect(committed).toBe(renderErrorsDoc())
  })
})
