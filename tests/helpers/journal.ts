import { expect } from 'vitest'
import type { App } from '../../src/app.js'
import type { JournalEntry } from '../../src/modules/journal/journal-schemas.js'
import type { TestUser } from './auth.js'

/** Writes an entry through the API (mood 5 and a plain body unless given) and returns it as a read shows it (without the write's `safety`). */
export async function writeEntry(app: App, user: TestUser, fields: Record<string, unknown> = {}): Promise<JournalEntry> {
  const res = await app.inject({ method: 'POST', url: '/v1/journal/entries', headers: user.headers, payload: { body: 'An ordinary day.', mood: 5, ...fields } })
  expect(res.statusCode, res.body).toBe(201)
  return withoutSafety(res.json<JournalEntry & { safety: unknown }>())
}

/** A write's response as a read shows the entry: the `safety` block is only on writes. */
export function withoutSafety<T extends { safety?: unknown }>(written: T): Omit<T, 'safety'> {
  expect(written.safety).toBeDefined()
  const { safety: _safety, ...entry } = written
  return entry
}

/** Every page of a list, following `nextCursor`; `between` runs after each page (e.g. to insert entries). */
export async function allPages(app: App, user: TestUser, query: string, between?: (page: number) => Promise<void>): Promise<JournalEntry[]> {
  const seen: JournalEntry[] = []
  let cursor: string | null = null
  for (let page = 0; page < 100; page++) {
    const url: string = `/v1/journal/entries?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const res = await app.inject({ method: 'GET', url, headers: user.headers })
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json<{ data: JournalEntry[]; page: { nextCursor: string | null } }>()
    seen.push(...body.data)
    cursor = body.page.nextCursor
    if (cursor === null) return seen
    await between?.(page)
  }
  throw new Error('more than 100 pages')
}
