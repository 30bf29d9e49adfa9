import { z } from 'zod'

/**
 * Plain-language messages for the validator's issues, so that no 400 shows Zod's own wording
 * ("Invalid input: expected string, received undefined"). A schema's own message (`{ error: '…' }`,
 * `.regex(re, '…')`) still wins: Zod consults this only where a schema says nothing.
 */

const plural = (count: number | bigint, one: string, many = `${one}s`) => `${count} ${Number(count) === 1 ? one : many}`

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  date: 'a date',
  bigint: 'a whole number',
  null: 'null',
}

const FORMAT_MESSAGES: Record<string, string> = {
  email: 'Must be an email address.',
  uuid: 'Must be a UUID.',
  guid: 'Must be a UUID.',
  url: 'Must be an absolute URL.',
  datetime: 'Must be a date-time with a time zone offset, e.g. 2026-10-03T21:00:00+02:00.',
  date: 'Must be a date, YYYY-MM-DD.',
  time: 'Must be a time, HH:MM[:SS].',
  regex: 'Has the wrong format.',
  starts_with: 'Has the wrong beginning.',
  ends_with: 'Has the wrong ending.',
  includes: 'Lacks a required part.',
}

type Issue = z.core.$ZodRawIssue

function bound(issue: Issue & { origin?: unknown; minimum?: unknown; maximum?: unknown; inclusive?: boolean }, kind: 'min' | 'max'): string {
  const value = (kind === 'min' ? issue.minimum : issue.maximum) as number | bigint
  const inclusive = issue.inclusive !== false
  switch (String(issue.origin)) {
    case 'string':
      if (kind === 'min' && Number(value) === 1) return 'Must not be empty.'
      return `Must be ${kind === 'min' ? 'at least' : 'at most'} ${plural(value, 'character')}.`
    case 'array':
    case 'set':
      if (kind === 'min' && Number(value) === 1) return 'Must have at least one item.'
      return `Must have ${kind === 'min' ? 'at least' : 'at most'} ${plural(value, 'item')}.`
    case 'date':
      return kind === 'min' ? 'Is too early.' : 'Is too late.'
    default:
      return `Must be ${kind === 'min' ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than'} ${String(value)}.`
  }
}

/** The message for an issue no schema gave a message for. */
export function plainMessage(issue: Issue): string {
  const detail: Record<string, unknown> = issue
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'Required.'
      return `Must be ${TYPE_NAMES[String(detail.expected)] ?? String(detail.expected)}.`
    case 'too_small':
      return bound(issue, 'min')
    case 'too_big':
      return bound(issue, 'max')
    case 'invalid_format':
      return FORMAT_MESSAGES[String(detail.format)] ?? `Must be a valid ${String(detail.format)}.`
    case 'invalid_value': {
      const values = Array.isArray(detail.values) ? detail.values.map((value) => String(value)) : []
      return values.length === 1 ? `Must be ${values[0] ?? ''}.` : `Must be one of: ${values.join(', ')}.`
    }
    case 'unrecognized_keys':
      return 'Unknown field; remove it or check its spelling.'
    case 'not_multiple_of':
      return `Must be a multiple of ${String(detail.divisor)}.`
    case 'invalid_union':
      return 'Matches none of the allowed forms.'
    case 'invalid_key':
      return 'Has an invalid key.'
    case 'invalid_element':
      return 'Has an invalid item.'
    case 'custom':
    case undefined:
    default:
      return 'Is not valid.'
  }
}

let installed = false

/** Makes `plainMessage` Zod's message for issues whose schema gives none. Idempotent. */
export function installValidationMessages(): void {
  if (installed) return
  installed = true
  z.config({ customError: (issue) => plainMessage(issue) })
}

/**
 * A Zod issue as the rejected values it names: one per unknown key for `unrecognized_keys` (with the
 * key in `field`), else one for the issue's path. For code that validates with Zod itself (an import
 * line, a merged patch); the error handler does the same for route schemas.
 */
export function issueFields(issue: z.core.$ZodIssue): { field: string; message: string; code: string }[] {
  const path = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ field: path ? `${path}.${key}` : key, message: 'Unknown field; remove it or check its spelling.', code: issue.code }))
  }
  return [{ field: path, message: issue.message, code: issue.code }]
}
