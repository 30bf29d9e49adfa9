import { createHash } from 'node:crypto'
import { z } from 'zod'

/**
 * Entity tags and the two preconditions the API honours (RFC 9110 §8.8.3, §13.1.1, §13.1.2):
 * `If-None-Match` on reads (304 when the client's copy is current) and `If-Match` on writes (412 when
 * it is not). Tags are strong: two different representations of a resource never share one.
 */

/** A strong tag from the exact bytes of a representation. */
export const contentEtag = (representation: string | Buffer): string => `"${createHash('sha256').update(representation).digest('base64url').slice(0, 32)}"`

/** A strong tag from a revision number that changes with every write (journal entries). */
export const revisionEtag = (revision: number): string => `"r${revision}"`

/** The tags a precondition header lists, `*`, or undefined when it is absent or empty. */
export function parseEtagList(header: string | string[] | undefined): string[] | '*' | undefined {
  const text = (Array.isArray(header) ? header.join(',') : header)?.trim()
  if (!text) return undefined
  if (text === '*') return '*'
  return [...text.matchAll(/(?:W\/)?"[^"]*"/g)].map((match) => match[0])
}

/** If-Match (strong comparison): true when absent, `*`, or naming `current`. */
export function ifMatchHolds(header: string | string[] | undefined, current: string): boolean {
  const tags = parseEtagList(header)
  if (tags === undefined || tags === '*') return true
  return tags.some((tag) => !tag.startsWith('W/') && tag === current)
}

/** If-None-Match (weak comparison): true when the client's copy is `current`, so a GET can answer 304. */
export function ifNoneMatchHits(header: string | string[] | undefined, current: string): boolean {
  const tags = parseEtagList(header)
  if (tags === undefined) return false
  if (tags === '*') return true
  const opaque = (tag: string) => tag.replace(/^W\//, '')
  return tags.some((tag) => opaque(tag) === opaque(current))
}

/** The `If-Match` request header of a conditional write, for its route schema. */
export const IfMatchHeadersSchema = z.object({
  'if-match': z
    .string()
    .optional()
    .describe('The `ETag` of the version you read: the write happens only if it is still current, else 412 `precondition_failed`.'),
})
