/**
 * The one place database errors are recognised, whichever layer raised them: Prisma's codes (`P2002`)
 * and the drivers' Postgres SQLSTATEs (`23505`), which raw queries throw and Prisma's driver adapters
 * keep in the error's cause. Another kind is another entry in `KINDS`.
 */

/** Codes of each kind: Prisma's, Postgres SQLSTATEs (`08*`: the whole class), Node's system errors. */
const KINDS: Record<'unique_violation' | 'record_not_found' | 'invalid_value' | 'connection', { codes: readonly string[]; messages?: RegExp }> = {
  unique_violation: { codes: ['P2002', '23505'] },
  record_not_found: { codes: ['P2025'] },
  // A value the database cannot take (class 22, data exception: a NUL byte, a number or date out of its
  // column's range, …). Inputs are validated before they get here; this is the safety net that keeps
  // the answer a 400 instead of a 500.
  invalid_value: { codes: ['22*', 'P2000', 'P2006', 'P2007', 'P2020', 'P2033'] },
  // The server cannot be reached, went away, is starting or shutting down, or did not answer in time
  // (statement_timeout cancels with 57014; Prisma's P1008/P2024 and pg's pool and query timeouts have
  // only a message). Answered 503 `database_unavailable`: a retry later can succeed.
  connection: {
    codes: [
      'P1001', 'P1002', 'P1008', 'P1017', 'P2024', '08*', '57P01', '57P02', '57P03', '57014',
      'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH',
      // The `kind` Prisma's driver adapters give a socket error (P2039, Prisma's generic database error,
      // carries any kind of error: only its cause tells).
      'DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections',
    ],
    // P2028 only for its timeouts (an interactive transaction that could not start or expired in time).
    messages:
      /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error|Connection ended unexpectedly|the database system is (starting up|shutting down)|Unable to start a transaction in the given time|A query cannot be executed on an expired transaction/i,
  },
}

/** Every code and message on the error and its causes (Prisma's `meta.driverAdapterError` included). */
function signsOf(error: unknown, depth = 0): { codes: string[]; messages: string[] } {
  if (typeof error !== 'object' || error === null || depth > 5) return { codes: [], messages: [] }
  const { code, originalCode, kind, message, cause, meta } = error as Record<string, unknown>
  const inner = [cause, (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError].map((next) => signsOf(next, depth + 1))
  return {
    codes: [code, originalCode, kind].filter((value): value is string => typeof value === 'string').concat(...inner.map((signs) => signs.codes)),
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

/** The database cannot be reached, dropped the connection or did not answer in time (P1001, SQLSTATE 08xxx, 57P0x, 57014, pool and query timeouts, …). */
export const isConnectionError = (error: unknown): boolean => dbErrorKind(error) === 'connection'
