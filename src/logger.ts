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

/** Options for pino; `redactKeys` are the further object keys features contribute (src/features.ts). */
export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>, redactKeys: readonly string[] = []): LoggerOptions {
  const keys = [...new Set([...SECRET_KEYS, ...redactKeys])]
  const paths = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]']
  return {
    level: config.LOG_LEVEL,
    redact: { paths: [...paths, ...keys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`])], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    base: { service: 'therapath' },
  }
}

/** The process logger: JSON lines on stdout (pipe to pino-pretty to read them in development). */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, { redactKeys, destination }: { redactKeys?: readonly string[]; destination?: DestinationStream } = {}): Logger {
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
