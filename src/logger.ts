import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino'
import type { Config } from './config.js'

/**
 * Fields that must never reach a log line, wherever they appear: credentials and tokens, and
 * request bodies and free text in general. Features add the sensitive things people tell them (journal
 * text, assessment answers) through `redactKeys` (src/features.ts collects them). Request logging never
 * includes bodies; this list is the second guard for any object someone logs later.
 */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'access_token',
  'refresh_token',
  'client_secret',
  'clientSecret',
  'secret',
  'body',
  'text',
]

/** Objects are searched this deep (a page of entries inside a request inside a log object is 4). */
const REDACT_DEPTH = 6
const CENSOR = '[redacted]'

/**
 * The logged object with the value of every redacted key replaced, at any depth up to REDACT_DEPTH, in
 * arrays too. Objects are copied only along the way to a redacted value; the caller's are never changed.
 * (pino's path-based `redact` needed three wildcard paths per key, about 90 in all, and walked them on
 * every line: 5 % of the service's CPU under load, for request lines that hold no such key.)
 */
export function redactObject(value: unknown, keys: ReadonlySet<string>, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth >= REDACT_DEPTH) return value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    value.forEach((item, i) => {
      const redacted = redactObject(item, keys, depth + 1)
      if (redacted !== item) (copy ??= [...(value as unknown[])])[i] = redacted
    })
    return copy ?? value
  }
  // Errors and other class instances are logged through pino's serializers; plain data is searched.
  const proto = Object.getPrototypeOf(value) as unknown
  if (proto !== Object.prototype && proto !== null && !(value instanceof Error)) return value
  let copy: Record<string, unknown> | undefined
  for (const [key, item] of Object.entries(value)) {
    const redacted = keys.has(key) ? CENSOR : redactObject(item, keys, depth + 1)
    if (redacted !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = redacted
  }
  return copy ?? value
}

/** Options for pino; `redactKeys` are the further object keys features contribute (src/features.ts). */
export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>, redactKeys: readonly string[] = []): LoggerOptions {
  const keys = new Set([...SECRET_KEYS, ...redactKeys])
  return {
    level: config.LOG_LEVEL,
    formatters: { log: (object) => redactObject(object, keys) as Record<string, unknown> },
    timestamp: pino.stdTimeFunctions.isoTime,
    base: { service: 'therapath' },
  }
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }

/**
 * One JSON log line as one readable line (`LOG_FORMAT=pretty`): time, level, message, then the other
 * fields as `key=value`. Made from the line pino already redacted, so it shows nothing JSON would not.
 */
export function prettyLogLine(line: string): string {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line
  }
  const { time, level, msg, service: _service, ...rest } = entry
  const when = typeof time === 'string' ? time.slice(11, 23) : ''
  const label = (LEVEL_NAMES[Number(level)] ?? String(level)).padEnd(5)
  const fields = Object.entries(rest)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ')
  return `${when} ${label} ${typeof msg === 'string' ? msg : ''}${fields ? `  ${fields}` : ''}\n`
}

/** Writes each line as `prettyLogLine` shows it. */
export const prettyDestination = (out: { write(text: string): unknown } = process.stdout): DestinationStream => ({
  write: (line: string) => void out.write(prettyLogLine(line)),
})

/** The process logger: JSON lines on stdout, or one readable line per entry with LOG_FORMAT=pretty. */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'> & Partial<Pick<Config, 'LOG_FORMAT'>>,
  { redactKeys, destination }: { redactKeys?: readonly string[]; destination?: DestinationStream } = {},
): Logger {
  const options = loggerOptions(config, redactKeys)
  const target = destination ?? (config.LOG_FORMAT === 'pretty' ? prettyDestination() : undefined)
  return target ? pino(options, target) : pino(options)
}

/**
 * One log line per request, when it completes: method, route template, path without its query
 * string (queries can carry search terms a user typed), status and time. No bodies, ever.
 */
export class RequestLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'requestId' })
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      route: request.routeOptions.url,
      path: request.url.split('?')[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    }
    if (error) reply.log.error({ ...line, err: error }, 'request errored')
    else reply.log.info(line, 'request completed')
  }
}
