import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { AppError } from '../../src/lib/errors.js'
import { decodeCursor, encodeCursor, PageQuerySchema, toPage } from '../../src/lib/pagination.js'

const Key = z.object({ at: z.iso.datetime(), id: z.uuid() })

describe('cursor pagination', () => {
  it('round-trips a sort key through an opaque cursor', () => {
    const key = { at: '2026-11-26T10:00:00.000Z', id: '0b6c9a57-87a3-4c1f-9d0e-1f6f2a9e4b10' }
    const cursor = encodeCursor(key)
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(decodeCursor(cursor, Key)).toEqual(key)
  })

  it.each(['not base64 json!', encodeCursor({ at: 'yesterday', id: 'x' }), encodeCursor([1, 2]), ''])('refuses %j as invalid_cursor', (cursor) => {
    expect(() => decodeCursor(cursor, Key)).toThrow(AppError)
    try {
      decodeCursor(cursor, Key)
    } catch (error) {
      expect(error).toMatchObject({ status: 400, code: 'invalid_cursor' })
    }
  })

  it('makes a page from limit + 1 rows', () => {
    const rows = [1, 2, 3, 4]
    expect(toPage(rows, 3, (n) => n * 10, (n) => ({ n }))).toEqual({ data: [10, 20, 30], page: { nextCursor: encodeCursor({ n: 3 }) } })
    expect(toPage(rows.slice(0, 3), 3, (n) => n, (n) => n)).toEqual({ data: [1, 2, 3], page: { nextCursor: null } })
    expect(toPage([], 3, (n) => n, (n) => n)).toEqual({ data: [], page: { nextCursor: null } })
  })

  it('validates limit', () => {
    expect(PageQuerySchema.parse({})).toEqual({ limit: 20 })
    expect(PageQuerySchema.parse({ limit: '100' }).limit).toBe(100)
    expect(PageQuerySchema.safeParse({ limit: '0' }).success).toBe(false)
    expect(PageQuerySchema.safeParse({ limit: '101' }).success).toBe(false)
  })
})
