import { z } from 'zod'
import { ERROR_TYPE_BASE, PROBLEM_CODE_LIST } from './error-catalogue.js'

/** RFC 9457 problem details, the body of every error response. */
export const FieldErrorSchema = z
  .object({
    in: z.enum(['body', 'query', 'path', 'header']).describe('Which part of the request held the value.'),
    field: z.string().describe('Dotted path to the value, e.g. `answers.3.value`; empty for the whole part.'),
    message: z.string().describe('What is wrong with the value, in plain language (never the validator’s own wording).'),
    code: z.string().describe('Machine-readable reason, e.g. `too_small`, `invalid_value`, `unrecognized_keys`; the field codes are listed in docs/errors.md.'),
  })
  .meta({ id: 'FieldError' })

export const ProblemSchema = z
  .looseObject({
    type: z.string().describe(`A URI naming the kind of problem, one per \`code\`: \`${ERROR_TYPE_BASE}<code>\` (RFC 9457 §3.1.1). Switch on \`code\`.`),
    title: z.string().describe('The HTTP status phrase.'),
    status: z.number().int().describe('The HTTP status code, repeated.'),
    detail: z.string().describe('What went wrong with this request, in plain language.'),
    instance: z.string().describe('The request path.'),
    code: z.enum(PROBLEM_CODE_LIST).describe('Stable machine-readable error code; each is explained in docs/errors.md. New codes may be added (treat an unknown one by its HTTP status).'),
    requestId: z.string().describe('Echoes the `x-request-id` response header; quote it when reporting a problem.'),
    errors: z.array(FieldErrorSchema).optional().describe('Each rejected field, for `validation_failed`.'),
  })
  .meta({
    id: 'Problem',
    description: 'RFC 9457 problem details. Further members may appear for specific codes.',
    example: {
      type: `${ERROR_TYPE_BASE}validation_failed`,
      title: 'Bad Request',
      status: 400,
      detail: 'The request is invalid: 1 problem in the body.',
      instance: '/v1/example',
      code: 'validation_failed',
      requestId: '5d0b3c1e-2f5a-4f0e-9d55-3c2f0c7e9a11',
      errors: [{ in: 'body', field: 'email', message: 'Must be an email address.', code: 'invalid_format' }],
    },
  })

const STATUS_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid; `errors` lists each rejected field.',
  401: 'Missing, expired or invalid credentials.',
  403: 'The token lacks a required scope.',
  404: 'No such resource (or it belongs to someone else).',
  409: 'Conflicts with the current state.',
  410: 'Gone: the position is past the change log’s retention (or unknown to it); re-sync.',
  413: 'The request body is too large.',
  414: 'A path parameter is longer than 100 characters (`uri_too_long`).',
  415: 'The request body has an unsupported media type.',
  422: 'Well-formed but cannot be processed.',
  429: 'Too many requests; retry after `Retry-After` seconds.',
  500: 'Unexpected error; nothing about it is disclosed. Quote `requestId` when reporting it.',
  503: 'Temporarily unavailable: `database_unavailable` (the database cannot be reached or did not answer in time), `deadline_exceeded` (the request ran past REQUEST_DEADLINE_MS) or `shutting_down`. Retry after `Retry-After` seconds; for a create, with the same `Idempotency-Key`.',
}

type ProblemResponse = { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema } } }

/**
 * Error responses for a route's OpenAPI document, e.g. `...problemResponses(400, 404)`.
 * 429 and 500 are added to every route, since any route can return them.
 */
export function problemResponses(...statuses: number[]): Record<number, ProblemResponse> {
  const all = [...new Set([...statuses, 429, 500])].sort()
  return Object.fromEntries(
    all.map((status) => [
      status,
      {
        description: STATUS_DESCRIPTIONS[status] ?? 'Error',
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  )
}
