import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod'
import { dbErrorKind } from '../lib/db-errors.js'
import { errorType, PROBLEM_CODES, type ProblemCode } from '../lib/error-catalogue.js'
import { AppError, type FieldError } from '../lib/errors.js'

/**
 * The one place errors become responses: RFC 9457 `application/problem+json` for everything,
 * including unknown routes, parser errors and rate limits. Unexpected errors answer a bare 500;
 * their message, stack and any SQL go only to the log, tagged with the request id.
 */

export interface ProblemParts {
  status: number
  code: string
  title: string
  detail: string
  extras?: Record<string, unknown>
  headers?: Record<string, string>
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route's addition to the problem its error became (e.g. a refused assessment's safety block); it sees the original error. */
    enrichProblem?: (problem: ProblemParts, error: unknown, request: FastifyRequest) => Promise<ProblemParts>
  }
}

/** Node's reason phrases, with RFC 9110's newer names where they differ. */
const STATUS_TITLES: Record<number, string | undefined> = { ...STATUS_CODES, 413: 'Content Too Large', 414: 'URI Too Long', 422: 'Unprocessable Content' }

/** Fastify's own client-error codes, mapped to our stable codes. Their messages are safe to show. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
  FST_ERR_BAD_URL: 'invalid_url',
}

/** Seconds a client should wait before retrying after the database was unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5

/** The 503 for a database that cannot be reached or did not answer in time: never its message, host or SQL. */
export const databaseUnavailable = (): ProblemParts => ({
  status: 503,
  code: 'database_unavailable',
  title: 'Service Unavailable',
  detail: 'The database is unavailable or did not answer in time; nothing was changed unless a retry with the same Idempotency-Key says so. Retry after `Retry-After` seconds.',
  headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
})

const VALIDATION_PLACES: Record<string, FieldError['in']> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
}

export const titleFor = (status: number): string => STATUS_TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Error')

interface ValidationIssue {
  instancePath: string
  message?: string
  keyword: string
  /** The validator's issue without path, code and message (fastify-type-provider-zod 7), e.g. `keys` of unrecognized_keys. */
  params?: { keys?: unknown; issue?: { keys?: unknown } }
}

/**
 * One entry per rejected value. The messages are the schemas' own or the plain ones of
 * src/lib/validation-messages.ts, never the validator's wording; an unknown key is named in `field`
 * (one entry per key), not left as an empty path.
 */
function fieldErrors(place: FieldError['in'], issue: ValidationIssue): FieldError[] {
  const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.')
  const keys = issue.params?.keys ?? issue.params?.issue?.keys
  if (issue.keyword === 'unrecognized_keys' && Array.isArray(keys) && keys.length > 0) {
    const what = place === 'query' ? 'parameter' : place === 'header' ? 'header' : 'field'
    return keys.map((key) => ({ in: place, field: path ? `${path}.${String(key)}` : String(key), message: `Unknown ${what}; remove it or check its spelling.`, code: issue.keyword }))
  }
  return [{ in: place, field: path, message: issue.message ?? 'Invalid value.', code: issue.keyword }]
}

function validationProblem(error: FastifyError & { validation: ValidationIssue[] }): ProblemParts {
  const place = VALIDATION_PLACES[error.validationContext ?? 'body'] ?? 'body'
  const errors: FieldError[] = error.validation.flatMap((issue) => fieldErrors(place, issue))
  const count = errors.length
  return {
    status: 400,
    code: 'validation_failed',
    title: 'Bad Request',
    detail: `The request is invalid: ${count} problem${count === 1 ? '' : 's'} in the ${place}.`,
    extras: { errors },
  }
}

/** Maps any thrown value to the problem it answers, or null for an unexpected error. */
export function toProblem(error: unknown): ProblemParts | null {
  if (error instanceof AppError) {
    return { status: error.status, code: error.code, title: error.title, detail: error.message, extras: error.extras, headers: error.headers }
  }
  if (hasZodFastifySchemaValidationErrors(error)) return validationProblem(error)
  // Safety net only: services translate the cases they expect into domain errors.
  const dbError = dbErrorKind(error)
  if (dbError === 'record_not_found') return { status: 404, code: 'not_found', title: 'Not Found', detail: 'The resource was not found.' }
  if (dbError === 'unique_violation') return { status: 409, code: 'conflict', title: 'Conflict', detail: 'A resource with the same unique value already exists.' }
  if (dbError === 'connection') return databaseUnavailable()
  if (dbError === 'invalid_value') {
    return { status: 400, code: 'invalid_value', title: 'Bad Request', detail: 'A value in the request is out of range or contains characters that cannot be stored.' }
  }
  if (typeof error !== 'object' || error === null) return null
  const fastifyError = error as Partial<FastifyError>
  if (fastifyError.code === 'FST_ERR_HANDLER_TIMEOUT') {
    return {
      status: 503,
      code: 'deadline_exceeded',
      title: 'Service Unavailable',
      detail: 'The request did not finish within the server\'s deadline (REQUEST_DEADLINE_MS). Retry after `Retry-After` seconds, with the same Idempotency-Key for a create.',
      headers: { 'retry-after': '1' },
    }
  }
  const status = fastifyError.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined
    const code = mapped ?? (status === 429 ? 'rate_limited' : 'bad_request')
    // A parser's own message (e.g. where JSON.parse stopped) is not ours to show; the catalogue's wording is.
    const detail = mapped && mapped in PROBLEM_CODES ? PROBLEM_CODES[mapped as ProblemCode].meaning : (fastifyError.message ?? titleFor(status))
    return { status, code, title: titleFor(status), detail }
  }
  return null
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: ProblemParts): FastifyReply {
  const body = {
    type: errorType(problem.code),
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    instance: request.url.split('?')[0] ?? request.url,
    code: problem.code,
    requestId: request.id,
    ...problem.extras,
  }
  for (const [name, value] of Object.entries(problem.headers ?? {})) reply.header(name, value)
  // Sent as a string so no route's response schema (for success bodies) is applied to it.
  return reply.status(problem.status).type('application/problem+json; charset=utf-8').send(JSON.stringify(body))
}

/**
 * Errors Fastify raises before a route runs (a malformed or too long URL, `frameworkErrors`): the same
 * problem+json as everything else, e.g. 414 `uri_too_long` for an id over the router's 100 characters.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(
    request,
    reply,
    toProblem(error) ?? { status: 500, code: 'internal_error', title: 'Internal Server Error', detail: 'An unexpected error occurred. Quote the requestId if you report it.' },
  )
}

/**
 * Errors on a connection before a request exists (Node's `clientError`): a request whose headers and
 * body did not arrive within REQUEST_TIMEOUT_MS (408 `request_timeout`), headers too large (431) or
 * unparsable (400). Written straight to the socket as problem+json, then the connection is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [status, code, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'The request was not received in full within the server\'s time limit (REQUEST_TIMEOUT_MS).']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'The request headers are too large.']
        : [400, 'malformed_request', 'The request could not be parsed as HTTP.']
  const body = JSON.stringify({ type: errorType(code), title: titleFor(status), status, detail, code })
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${titleFor(status)}\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy()
}

export const errorHandlerPlugin = fp(
  async (app) => {
    app.setErrorHandler(async (error: unknown, request, reply) => {
      let unexpected = error
      const mapped = toProblem(error)
      const enrich = request.routeOptions.config.enrichProblem
      // An enricher that fails turns the answer into a 500 for its own error.
      const problem = mapped && enrich ? await enrich(mapped, error, request).catch((failure: unknown) => void (unexpected = failure)) : mapped
      if (problem) {
        if (problem.status >= 500) request.log.warn({ err: error, code: problem.code, status: problem.status }, 'request failed: service unavailable')
        else request.log.debug({ code: problem.code, status: problem.status }, 'request refused')
        return sendProblem(request, reply, problem)
      }
      if (isResponseSerializationError(unexpected)) {
        request.log.error({ issues: unexpected.cause.issues, url: unexpected.url }, 'response did not match its schema')
      } else {
        request.log.error({ err: unexpected }, 'unexpected error')
      }
      return sendProblem(request, reply, {
        status: 500,
        code: 'internal_error',
        title: 'Internal Server Error',
        detail: 'An unexpected error occurred. Quote the requestId if you report it.',
      })
    })

    app.setNotFoundHandler((request, reply) =>
      sendProblem(request, reply, {
        status: 404,
        code: 'route_not_found',
        title: 'Not Found',
        detail: `No route matches ${request.method} ${request.url.split('?')[0] ?? ''}.`,
      }),
    )
  },
  { name: 'error-handler' },
)
