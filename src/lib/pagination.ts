import { z } from 'zod'
import { BadRequestError } from './errors.js'

/**
 * Cursor pagination shared by every list: `limit` 1–100 and an opaque `cursor`; responses are
 * `{ data, page: { nextCursor } }`. A cursor holds the sort key of the last row returned
 * (base64url JSON), so pages stay stable while rows are added or edited between requests,
 * and no page runs `count(*)`. Cursors are validated like any input.
 */

export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('Items per page, 1–100.'),
  cursor: z.string().max(1024).optional().describe('`page.nextCursor` from the previous page; omit for the first page.'),
})

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    data: z.array(item),
    page: z.object({
      nextCursor: z.string().nullable().describe('Pass as `cursor` to get the next page; null on the last page.'),
    }),
  })

/**
 * An instant in a cursor: ISO 8601 in the years 0001–9999, the range both JavaScript and Postgres
 * timestamps hold (a forged `0000-…` would otherwise reach the database and fail there).
 */
export const cursorInstant = () => z.iso.datetime().refine((value) => /^(?!0000)\d{4}-/.test(value), 'year out of range')

export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url')
}

/**
 * Decodes a cursor and checks it against the shape the list expects.
 * @throws BadRequestError (`invalid_cursor`) for anything that is not a cursor this list issued.
 */
export function decodeCursor<T extends z.ZodType>(cursor: string, schema: T): z.output<T> {
  let raw: unknown
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw invalidCursor()
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success) throw invalidCursor()
  return parsed.data
}

const invalidCursor = () =>
  new BadRequestError('invalid_cursor', 'The cursor is not valid for this list; start again without a cursor.', {
    errors: [{ in: 'query', field: 'cursor', message: 'Invalid cursor', code: 'invalid_cursor' }],
  })

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only tells whether another page
 * exists, and the cursor is built from the last row kept.
 */
export function toPage<Row, Item>(rows: Row[], limit: number, toItem: (row: Row) => Item, cursorKey: (row: Row) => unknown) {
  const kept = rows.slice(0, limit)
  const last = kept.at(-1)
  return {
    data: kept.map(toItem),
    page: { nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorKey(last)) : null },
  }
}
