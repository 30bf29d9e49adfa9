/**
 * Domain errors. Services throw these; one error handler (src/plugins/error-handler.ts) turns
 * them into RFC 9457 `application/problem+json`. The status never depends on message text.
 */

/** One rejected input value, as listed in a 400 problem's `errors`. */
export interface FieldError {
  /** Where the value came from. */
  in: 'body' | 'query' | 'path' | 'header'
  /** Dotted path to the value, e.g. `answers.3.value`; empty for the whole input. */
  field: string
  message: string
  /** Short machine-readable reason, e.g. `too_small`, `invalid_value`. */
  code: string
}

export interface ProblemExtras {
  /** Extension members added to the problem body (RFC 9457 §3.2). */
  [member: string]: unknown
}

export class AppError extends Error {
  override name = 'AppError'
  constructor(
    readonly status: number,
    /** Stable machine-readable code, e.g. `not_found`; integrators may switch on it. */
    readonly code: string,
    readonly title: string,
    detail?: string,
    readonly extras: ProblemExtras = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title)
  }
}

export class ValidationError extends AppError {
  constructor(detail: string, errors: FieldError[]) {
    super(400, 'validation_failed', 'Bad Request', detail, { errors })
  }
}

export class BadRequestError extends AppError {
  constructor(code: string, detail: string, extras: ProblemExtras = {}) {
    super(400, code, 'Bad Request', detail, extras)
  }
}

export class UnauthorizedError extends AppError {
  constructor(detail = 'A valid bearer token is required.', code = 'unauthorized') {
    super(401, code, 'Unauthorized', detail, {}, { 'www-authenticate': 'Bearer' })
  }
}

export class ForbiddenError extends AppError {
  constructor(detail: string, code = 'forbidden', extras: ProblemExtras = {}) {
    super(403, code, 'Forbidden', detail, extras)
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, id?: string) {
    super(404, 'not_found', 'Not Found', id === undefined ? `${what} not found` : `${what} ${id} not found`)
  }
}

export class ConflictError extends AppError {
  constructor(detail: string, code = 'conflict') {
    super(409, code, 'Conflict', detail)
  }
}

export class UnprocessableError extends AppError {
  constructor(detail: string, code = 'unprocessable') {
    super(422, code, 'Unprocessable Content', detail)
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(detail: string, code = 'unavailable') {
    super(503, code, 'Service Unavailable', detail)
  }
}

/** `If-Match` named a version that is no longer current (RFC 9110 §13.1.1); nothing was written. */
export class PreconditionFailedError extends AppError {
  constructor(detail = 'The resource was changed since the version named in If-Match; nothing was written. Read it again (new ETag) and retry.') {
    super(412, 'precondition_failed', 'Precondition Failed', detail)
  }
}
