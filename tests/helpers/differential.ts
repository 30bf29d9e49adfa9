import { isDeepStrictEqual } from 'node:util'
import type { CuratorClient } from './directory.js'

/**
 * Comparing two instances of the app that answer directory searches two ways (the directory index,
 * and SQL alone): a comparison of whole answers that says where they part, so a failure names the
 * query and the first difference.
 */

/** A search answer as both ways must agree on it: the cursor strings may differ (they carry engine-specific hints), their presence may not. */
export interface Comparable {
  status: number
  /** 200: the hits; else the problem's code. */
  data?: unknown[]
  facets?: unknown
  applied?: unknown
  more?: boolean
  code?: string
}

export interface Answer {
  comparable: Comparable
  nextCursor: string | null
}

export async function search(app: CuratorClient, url: string): Promise<Answer> {
  const res = await app.inject({ method: 'GET', url })
  const body = res.json<{ data?: unknown[]; facets?: unknown; applied?: unknown; page?: { nextCursor: string | null }; code?: string }>()
  if (res.statusCode !== 200) return { comparable: { status: res.statusCode, code: body.code }, nextCursor: null }
  const nextCursor = body.page?.nextCursor ?? null
  return { comparable: { status: 200, data: body.data, facets: body.facets, applied: body.applied, more: nextCursor !== null }, nextCursor }
}

/** The hits around position `at`, as "name id-prefix". */
const around = (data: unknown[], at: number) => {
  const from = Math.max(0, at - 2)
  const shown = data.slice(from, at + 3).map((hit) => `${(hit as { name: string }).name} ${(hit as { id: string }).id.slice(0, 8)}`)
  return `${from > 0 ? '… ' : ''}${shown.join(', ')}${at + 3 < data.length ? ' …' : ''} (${data.length} hits)`
}

/** Where two answers part ('' when they agree), short enough to read in a failure list. */
export function difference(index: Comparable, sql: Comparable): string {
  if (isDeepStrictEqual(index, sql)) return ''
  if (index.status !== sql.status) return `status index=${index.status} (${index.code ?? ''}) sql=${sql.status} (${sql.code ?? ''})`
  const parts: string[] = []
  if (!isDeepStrictEqual(index.data, sql.data)) {
    const a = (index.data ?? []) as Record<string, unknown>[]
    const b = (sql.data ?? []) as Record<string, unknown>[]
    const at = a.findIndex((hit, i) => !isDeepStrictEqual(hit, b[i]))
    const first = at < 0 ? b.length : at
    const [x, y] = [a[first], b[first]]
    // The same therapist at the same place, shown differently: name the fields.
    const fields = x && y && x.id === y.id ? Object.keys(x).filter((key) => !isDeepStrictEqual(x[key], y[key])) : []
    const detail = fields.map((key) => `${key}: index=${JSON.stringify(x?.[key])} sql=${JSON.stringify(y?.[key])}`)
    parts.push(`hits differ at #${first}${detail.length > 0 ? ` (${detail.join('; ')})` : ''}: index=[${around(a, first)}] sql=[${around(b, first)}]`)
  }
  if (!isDeepStrictEqual(index.facets, sql.facets)) {
    const a = (index.facets ?? {}) as Record<string, { value: string; count: number }[]>
    const b = (sql.facets ?? {}) as Record<string, { value: string; count: number }[]>
    const diffs: string[] = []
    for (const facet of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const mine = new Map((a[facet] ?? []).map((row) => [row.value, row.count]))
      for (const row of b[facet] ?? []) if (mine.get(row.value) !== row.count) diffs.push(`${facet}.${row.value} index=${mine.get(row.value)} sql=${row.count}`)
      if (!isDeepStrictEqual(a[facet], b[facet]) && diffs.length === 0) diffs.push(`${facet}: order`)
    }
    parts.push(`facets differ: ${diffs.slice(0, 6).join(', ')}`)
  }
  if (!isDeepStrictEqual(index.applied, sql.applied)) parts.push(`applied differs: index=${JSON.stringify(index.applied)} sql=${JSON.stringify(sql.applied)}`)
  if (index.more !== sql.more) parts.push(`next page: index=${index.more} sql=${sql.more}`)
  return parts.join(' | ')
}

/** Adds a cursor to a search URL. */
export const withCursor = (url: string, cursor: string) => `${url}${url.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`

/**
 * Runs one search on both instances and follows its cursors for up to `pages` pages, each engine with
 * its own cursors; with `cross`, each page's cursor is also handed to the other engine, whose next
 * page must be the same. Returns what differed, each line naming the URL and the page.
 */
export async function compareEngines(index: CuratorClient, sql: CuratorClient, url: string, { pages = 1, cross = false } = {}): Promise<string[]> {
  const problems: string[] = []
  let a = await search(index, url)
  let b = await search(sql, url)
  for (let page = 1; ; page += 1) {
    const diff = difference(a.comparable, b.comparable)
    if (diff !== '') {
      problems.push(`${url} page ${page}: ${diff}`)
      return problems
    }
    if (page >= pages || a.nextCursor === null || b.nextCursor === null) return problems
    const nextA = await search(index, withCursor(url, a.nextCursor))
    const nextB = await search(sql, withCursor(url, b.nextCursor))
    if (cross) {
      const sqlAfterIndexCursor = await search(sql, withCursor(url, a.nextCursor))
      const crossed = difference(nextA.comparable, sqlAfterIndexCursor.comparable)
      if (crossed !== '') problems.push(`${url} page ${page + 1}, the index's cursor continued by SQL: ${crossed}`)
      const indexAfterSqlCursor = await search(index, withCursor(url, b.nextCursor))
      const back = difference(indexAfterSqlCursor.comparable, nextB.comparable)
      if (back !== '') problems.push(`${url} page ${page + 1}, SQL's cursor continued by the index: ${back}`)
    }
    a = nextA
    b = nextB
  }
}
