import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino'
import type { Config } from './config.js'

/**
 * Fields that must never reach a log line, wherever they appear: credentials and tokens, and
 * request bodies and free text in general. Features add the sensitive things people tell them (journal
 * text, assessment answers) through `redactKeys` (app.ts collects them). Request logging never
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

/** Where a key is redacted: at the top of a logged object and two levels down. */
export const redactionPaths = (keys: readonly string[]): string[] => keys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`])

export interface LoggerSettings {
  /** Further object keys to redact, contributed by features. */
  redactKeys?: readonly string[]
  /** Where the JSON lines go; stdout when omitted. */
  destination?: DestinationStream
}

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>, redactKeys: readonly string[] = []): LoggerOptions {
  const paths = [
    'req.headers.authorization',
    'req.headers.cookie',
    'req.headers["x-api-key"]',
    'res.headers["set-cookie"]',
    ...redactionPaths([...new Set([...SECRET_KEYS, ...redactKeys])]),
  ]
  return {
    level: config.LOG_LEVEL,
    redact: { paths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    base: { service: 'therapath' },
  }
}

/** The process logger: JSON lines on stdout (pipe to pino-pretty to read them in development). */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, { redactKeys, destination }: LoggerSettings = {}): Logger {
  const options = loggerOptions(config, redactKeys)
  return destination ? pino(options, destination) : pino(options)
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
