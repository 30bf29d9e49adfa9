/**
 * The one place database errors are recognised, whichever layer raised them: Prisma's codes (`P2002`)
 * and the drivers' Postgres SQLSTATEs (`23505`), which raw queries throw and Prisma's driver adapters
 * keep in the error's cause. Another kind is another entry in `KINDS`.
 */

/** Codes of each kind: Prisma's, Postgres SQLSTATEs (`08*`: the whole class), Node's system errors. */
const KINDS: Record<'unique_violation' | 'record_not_found' | 'connection', { codes: readonly string[]; messages?: RegExp }> = {
  unique_violation: { codes: ['P2002', '23505'] },
  record_not_found: { codes: ['P2025'] },
  // Not mapped to HTTP yet: the server cannot be reached, went away, or is starting or shutting down;
  // pg's pool timeout has only a message.
  connection: {
    codes: ['P1001', 'P1002', 'P1017', 'P2024', 'P2039', '08*', '57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'],
    messages: /timeout exceeded when trying to connect|Connection terminated/i,
  },
}

/** Every code and message on the error and its causes (Prisma's `meta.driverAdapterError` included). */
function signsOf(error: unknown, depth = 0): { codes: string[]; messages: string[] } {
  if (typeof error !== 'object' || error === null || depth > 5) return { codes: [], messages: [] }
  const { code, originalCode, message, cause, meta } = error as Record<string, unknown>
  const inner = [cause, (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError].map((next) => signsOf(next, depth + 1))
  return {
    codes: [code, originalCode].filter((value): value is string => typeof value === 'string').concat(...inner.map((signs) => signs.codes)),
    messages: (typeof message === 'string' ? [message] : []).concat(...inner.map((signs) => signs.messages)),
  }
}

const matches = (known: readonly string[], code: string) => known.some((entry) => (entry.endsWith('*') ? /^[0-9A-Z]{5}$/.test(code) && code.startsWith(entry.slice(0, -1)) : entry === code))

export type DbErrorKind = keyof typeof KINDS

/** Which kind of database error this is, if it is one we recognise. */
export function dbErrorKind(error: unknown): DbErrorKind | undefined {
  const { codes, messages } = signsOf(error)
  return (Object.entries(KINDS) as [DbErrorKind, (typeof KINDS)[DbErrorKind]][]).find(([, known]) => codes.some((code) => matches(known.codes, code)) || messages.some((text) => known.messages?.test(text)))?.[0]
}

/** A unique constraint refused the write (Prisma P2002, SQLSTATE 23505). */
export const isUniqueViolation = (error: unknown): boolean => dbErrorKind(error) === 'unique_violation'

/** The record an update or delete needed does not exist, or no longer matches its `where` (Prisma P2025). */
export const isRecordNotFound = (error: unknown): boolean => dbErrorKind(error) === 'record_not_found'

/** The database cannot be reached or dropped the connection (P1001, SQLSTATE 08xxx, 57P0x, pool timeouts, …). */
export const isConnectionError = (error: unknown): boolean => dbErrorKind(error) === 'connection'
