/**
 * The one place database errors are recognised, whichever layer raised them: Prisma's known
 * request errors (`P2002`, …) and the drivers beneath it (pg, PGlite), whose errors carry a Postgres
 * SQLSTATE (`23505`, …) — raw queries throw those directly, and Prisma's driver adapters keep the
 * original code in the error's cause. Services and the error handler ask `isUniqueViolation`,
 * `isRecordNotFound`, … instead of comparing codes themselves. To recognise another kind, add its
 * codes to `KINDS`.
 */

export type DbErrorKind = 'unique_violation' | 'record_not_found' | 'connection'

interface KindCodes {
  /** Prisma error codes (https://www.prisma.io/docs/orm/reference/error-reference). */
  prisma: readonly string[]
  /** Postgres SQLSTATEs; a trailing `*` takes the whole class (`08*`). */
  sqlState: readonly string[]
  /** Node.js system error codes and driver messages, for errors that never reached the server. */
  system?: readonly string[]
  messages?: readonly RegExp[]
}

const KINDS: Record<DbErrorKind, KindCodes> = {
  unique_violation: { prisma: ['P2002'], sqlState: ['23505'] },
  record_not_found: { prisma: ['P2025'], sqlState: [] },
  // Not mapped to HTTP yet: the server cannot be reached, went away, or is starting or shutting down.
  connection: {
    prisma: ['P1001', 'P1002', 'P1017', 'P2024', 'P2039'],
    sqlState: ['08*', '57P01', '57P02', '57P03'],
    system: ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'],
    messages: [/timeout exceeded when trying to connect/i, /Connection terminated/i],
  },
}

/** Every code and message on the error and its causes (Prisma's `meta.driverAdapterError` included). */
function signsOf(error: unknown): { codes: string[]; messages: string[] } {
  const signs = { codes: [] as string[], messages: [] as string[] }
  const seen = new Set<unknown>()
  const visit = (value: unknown, depth: number) => {
    if (typeof value !== 'object' || value === null || seen.has(value) || depth > 5) return
    seen.add(value)
    const record = value as { code?: unknown; originalCode?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } }
    for (const code of [record.code, record.originalCode]) if (typeof code === 'string') signs.codes.push(code)
    if (typeof record.message === 'string') signs.messages.push(record.message)
    visit(record.cause, depth + 1)
    visit(record.meta?.driverAdapterError, depth + 1)
  }
  visit(error, 0)
  return signs
}

const matchesSqlState = (patterns: readonly string[], code: string) =>
  /^[0-9A-Z]{5}$/.test(code) && patterns.some((pattern) => (pattern.endsWith('*') ? code.startsWith(pattern.slice(0, -1)) : code === pattern))

/** Which kind of database error this is, if it is one we recognise. */
export function dbErrorKind(error: unknown): DbErrorKind | undefined {
  const { codes, messages } = signsOf(error)
  for (const [kind, known] of Object.entries(KINDS) as [DbErrorKind, KindCodes][]) {
    const byCode = codes.some((code) => known.prisma.includes(code) || matchesSqlState(known.sqlState, code) || known.system?.includes(code))
    if (byCode || messages.some((message) => known.messages?.some((pattern) => pattern.test(message)))) return kind
  }
  return undefined
}

/** A unique constraint refused the write (Prisma P2002, SQLSTATE 23505). */
export const isUniqueViolation = (error: unknown): boolean => dbErrorKind(error) === 'unique_violation'

/** The record an update or delete needed does not exist, or no longer matches its `where` (Prisma P2025). */
export const isRecordNotFound = (error: unknown): boolean => dbErrorKind(error) === 'record_not_found'

/** The database cannot be reached or dropped the connection (P1001, SQLSTATE 08xxx, 57P0x, pool timeouts, …). */
export const isConnectionError = (error: unknown): boolean => dbErrorKind(error) === 'connection'
