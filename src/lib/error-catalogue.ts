/**
 * Every `code` the API can answer with, in one place: what it means and what a caller should do. The
 * problem's `type` is a URI made from the code (RFC 9457 §3.1.1), `code` is an enum in the OpenAPI
 * document, and `docs/errors.md` is generated from this file (`npm run errors:doc`; a test fails when
 * it is stale). Another test scans `src/` for codes used and fails when one is missing here, so a new
 * code is documented in the change that adds it.
 *
 * Three lists: problem codes (the `code` of an `application/problem+json` body), field codes (the
 * `code` of each entry of a problem's `errors`, and of an import report line's `errors`), and the
 * OAuth 2.0 errors of the token endpoint (RFC 6749 §5.2 fixes their body as `{error, error_description}`).
 */

export interface ErrorEntry {
  /** The HTTP status it comes with (several for a few generic codes). */
  status: number | readonly number[]
  /** What happened, in plain words. */
  meaning: string
  /** What the caller should do about it. */
  action: string
}

/** Documentation of each problem `type`: `${ERROR_TYPE_BASE}<code>`. Stable: it names the code, never a deployment. */
export const ERROR_TYPE_BASE = 'https://therapath.dev/errors/'

export const PROBLEM_CODES = {
  // 400
  validation_failed: {
    status: 400,
    meaning: 'The request is invalid: `errors` lists each rejected value (`in`, `field`, `message`, field `code`).',
    action: 'Fix the listed values and send the request again; do not retry it unchanged.',
  },
  malformed_request: { status: 400, meaning: 'The request could not be parsed as HTTP; the connection is closed.', action: 'Check what your HTTP client sends (request line, headers).' },
  bad_request: { status: 400, meaning: 'The request could not be read as HTTP the API accepts.', action: 'Check the request line, headers and body encoding.' },
  invalid_json: { status: 400, meaning: 'The body is not valid JSON.', action: 'Send a JSON body that parses, with `content-type: application/json`.' },
  invalid_body: { status: 400, meaning: 'The body is empty, although the content type says JSON.', action: 'Send a JSON body, or no content type with no body.' },
  invalid_content_length: { status: 400, meaning: '`Content-Length` does not match the body.', action: 'Let your HTTP client set `Content-Length`.' },
  invalid_cursor: { status: 400, meaning: 'The `cursor` is not one this list gave out, or it belongs to another sort.', action: 'Start again without `cursor` and follow `page.nextCursor`.' },
  unknown_term: {
    status: 400,
    meaning: 'A vocabulary value (modality, specialty, client focus, format, license type) is not known; `validValues` lists the valid slugs.',
    action: 'Use a slug, name or alias from `GET /v1/vocabularies`.',
  },
  invalid_language: { status: 400, meaning: '`language` is not a BCP 47 tag.', action: 'Use tags such as `en`, `es`, `es-MX`.' },
  conflicting_location: { status: 400, meaning: 'Both `near` and `postalCode` were given.', action: 'Give one of them.' },
  invalid_near: { status: 400, meaning: '`near` is not `latitude,longitude` within range.', action: 'Send e.g. `near=37.76,-122.42`.' },
  unknown_postal_code: { status: 400, meaning: 'The US ZIP code is not known.', action: 'Check the ZIP code, or search with `near`.' },
  radius_without_location: { status: 400, meaning: '`radiusKm` was given without a place to measure from.', action: 'Add `near` or `postalCode`, or drop `radiusKm`.' },
  telehealth_needs_state: { status: 400, meaning: '`includeTelehealth` needs the searcher’s state.', action: 'Add `state`, `postalCode` or `near`.' },
  sort_needs_q: { status: 400, meaning: '`sort=relevance` needs a text query.', action: 'Add `q`, or choose another sort.' },
  sort_needs_location: { status: 400, meaning: '`sort=distance` needs a place.', action: 'Add `near` or `postalCode`, or choose another sort.' },
  unknown_facet: { status: 400, meaning: '`facets` names a facet that does not exist.', action: 'Use the facet names listed in the OpenAPI document, or `none`.' },
  empty_import: { status: 400, meaning: 'The import upload holds no lines; nothing was written.', action: 'Send one TherapistCreate JSON object per line (check the file name of `--data-binary @file`).' },
  invalid_url: { status: 400, meaning: 'The request path is not a valid URL (e.g. a malformed percent-encoding).', action: 'Percent-encode path segments (`encodeURIComponent`).' },
  webhook_url_not_https: { status: 400, meaning: 'A webhook URL must use https.', action: 'Register an https endpoint.' },
  webhook_url_credentials: { status: 400, meaning: 'A webhook URL must not carry a user name or password.', action: 'Verify deliveries by their signature instead (`webhook-signature`).' },
  webhook_url_unresolvable: { status: 400, meaning: 'The webhook URL’s host does not resolve.', action: 'Check the host name; register the endpoint once its DNS is live.' },
  webhook_url_not_public: {
    status: 400,
    meaning: 'The webhook URL’s host resolves to a private, loopback, link-local or reserved address (deliveries never go to internal networks).',
    action: 'Register a publicly reachable endpoint.',
  },
  // 401
  unauthorized: { status: 401, meaning: 'No bearer token was sent.', action: 'Send `Authorization: Bearer <access token>`.' },
  invalid_token: {
    status: 401,
    meaning: 'The access token is malformed, expired, not ours (or a trusted issuer’s), its session ended or its app was deactivated; `detail` says which.',
    action: 'Get a new access token (refresh, sign in, or the client-credentials grant) and retry once.',
  },
  invalid_credentials: { status: 401, meaning: 'The email or password is not correct (the two are not told apart).', action: 'Ask the user to try again; do not retry automatically.' },
  invalid_refresh_token: { status: 401, meaning: 'The refresh token is unknown, expired, or its session has ended (e.g. a reused token ended it).', action: 'Sign the user in again.' },
  refresh_token_spent: {
    status: 401,
    meaning: 'The refresh token was used a moment ago by another request, which received the next pair; nothing was ended.',
    action: 'Use the pair that other request received (e.g. share refreshes between tabs); do not sign the user out.',
  },
  // 403
  forbidden: { status: 403, meaning: 'The caller may not do this.', action: 'Check which principal and scopes the operation needs.' },
  insufficient_scope: { status: 403, meaning: 'The token lacks the scope the route needs; `requiredScope` names it.', action: 'Request a token with that scope (apps: ask the operator to grant it).' },
  user_token_required: { status: 403, meaning: 'The route acts on a user’s own data and an app token was sent.', action: 'Call it with the user’s access token.' },
  webhooks_app_only: { status: 403, meaning: 'Webhooks belong to apps; a user token was sent.', action: 'Use an app token (client-credentials grant) with `webhooks:write`.' },
  // 404
  not_found: { status: 404, meaning: 'No such resource, or it belongs to someone else (the two are not told apart).', action: 'Check the id; a deleted resource stays gone.' },
  route_not_found: { status: 404, meaning: 'No route matches the method and path.', action: 'Check the path and method against the OpenAPI document (all API paths start with `/v1`).' },
  // 408
  request_timeout: {
    status: 408,
    meaning: 'The client did not send the whole request within `REQUEST_TIMEOUT_MS`; the connection is closed.',
    action: 'Send the request again, faster (a large import over a slow link: ask the operator to raise the setting).',
  },
  // 409
  conflict: { status: 409, meaning: 'The request conflicts with the current state (a unique value is taken).', action: 'Read the resource again and decide.' },
  email_taken: { status: 409, meaning: 'An account with this email exists.', action: 'Sign in instead.' },
  external_id_taken: { status: 409, meaning: 'Another therapist has this `externalId`; `therapistId` names it.', action: 'PATCH that therapist, or use another `externalId`.' },
  external_id_removed: {
    status: 409,
    meaning: 'The `externalId` belongs to a removed therapist; `therapistId` names it.',
    action: 'Import the line (`POST /v1/therapists/import`) to restore it, or use another `externalId`.',
  },
  concurrent_update: { status: 409, meaning: 'Other writes kept changing the resource while this change was applied; nothing was written.', action: 'Read it again and retry.' },
  idempotency_request_in_progress: { status: 409, meaning: 'A request with this `Idempotency-Key` is still running.', action: 'Retry shortly with the same key.' },
  idempotency_claim_lost: {
    status: 409,
    meaning: 'This request ran longer than its `Idempotency-Key` lease and a retry took the key over; nothing was written by this one.',
    action: 'Retry with the same key: you get the answer of the request that holds it.',
  },
  journal_entry_unreadable: {
    status: 409,
    meaning: 'Fields of the journal entry cannot be decrypted (tampered, or a retired key), so a PATCH cannot keep them; `detail` names them.',
    action: 'Send new values for those fields in the same PATCH, or delete the entry.',
  },
  webhook_inactive: { status: 409, meaning: 'The webhook is paused or was disabled after failing for too long.', action: 'PATCH it with `active: true` first.' },
  delivery_in_flight: { status: 409, meaning: 'The delivery is being sent right now.', action: 'Look at it again in a few seconds.' },
  // 410
  changes_expired: {
    status: 410,
    meaning: 'Events after this position were removed by retention (`DIRECTORY_CHANGES_RETENTION_DAYS`).',
    action: 'Re-sync: start from `after=now` and page the directory again (see the directory-sync guide).',
  },
  changes_cursor_unknown: {
    status: 410,
    meaning: 'This database never issued the position (e.g. it was restored from a backup, or the position is from another deployment).',
    action: 'Re-sync: start from `after=now` and page the directory again.',
  },
  // 412
  precondition_failed: {
    status: 412,
    meaning: '`If-Match` names a version (ETag) that is no longer current: someone changed the resource since you read it. Nothing was written.',
    action: 'GET it again (new `ETag`), re-apply your change, and send it with the new `If-Match`.',
  },
  // 413, 414, 415
  uri_too_long: { status: 414, meaning: 'A path parameter is longer than 100 characters.', action: 'Check the id: every id is a UUID.' },
  body_too_large: { status: 413, meaning: 'The body is larger than the route accepts; nothing was written.', action: 'Send less (split an import into several).' },
  unsupported_media_type: { status: 415, meaning: 'The body’s content type is not one the route takes.', action: 'Use the content type the OpenAPI document lists for the operation.' },
  // 422
  unprocessable: { status: 422, meaning: 'The request is well-formed but cannot be processed.', action: 'Read `detail`.' },
  idempotency_key_reused: { status: 422, meaning: 'This `Idempotency-Key` was used for a different request within 24 hours.', action: 'Use a new key for a new request.' },
  // 429, 431
  headers_too_large: { status: 431, meaning: 'The request headers are too large; the connection is closed.', action: 'Send fewer or shorter headers (cookies, tokens).' },
  rate_limited: { status: 429, meaning: 'Too many requests in the current window.', action: 'Wait `Retry-After` seconds; watch `RateLimit-Remaining` to slow down before it happens.' },
  // 500, 503
  internal_error: { status: 500, meaning: 'An unexpected error; nothing about it is disclosed.', action: 'Retry later; quote `requestId` if you report it.' },
  unavailable: { status: 503, meaning: 'The service cannot answer right now.', action: 'Retry with backoff.' },
  not_ready: { status: 503, meaning: '`/readyz`: the instance is not ready (e.g. the directory index is still being built).', action: 'Load balancers: send traffic elsewhere until it answers 200.' },
  not_migrated: { status: 503, meaning: '`/readyz`: the database lacks migrations this version needs.', action: 'Operators: run `npm run db:migrate`.' },
  database_unreachable: { status: 503, meaning: '`/readyz`: the database does not answer.', action: 'Operators: check the database and `DATABASE_URL`.' },
  database_unavailable: {
    status: 503,
    meaning: 'The database could not be reached, dropped the connection, or did not answer in time; `Retry-After` says when to try again.',
    action: 'Retry after `Retry-After` seconds; a create with the same `Idempotency-Key`, so it runs at most once.',
  },
  deadline_exceeded: { status: 503, meaning: 'The request ran past the service’s deadline (`REQUEST_DEADLINE_MS`).', action: 'Retry after `Retry-After`; a create with the same `Idempotency-Key`.' },
  shutting_down: { status: 503, meaning: '`/readyz`: the instance is draining after a stop signal.', action: 'Load balancers: take it out; requests still sent to it are answered, with `Connection: close`.' },
} as const satisfies Record<string, ErrorEntry>

export type ProblemCode = keyof typeof PROBLEM_CODES
export const PROBLEM_CODE_LIST = Object.keys(PROBLEM_CODES) as [ProblemCode, ...ProblemCode[]]

/** The codes of `errors[]` entries: one rejected value each. The validator's own codes come first. */
export const FIELD_CODES = {
  // From request validation (the route's schema).
  invalid_type: { status: 400, meaning: 'The value has the wrong type, or a required value is missing.', action: 'Send the type the schema names.' },
  too_small: { status: 400, meaning: 'Too short, too few items, or below the minimum.', action: 'See the schema’s minimum.' },
  too_big: { status: 400, meaning: 'Too long, too many items, or above the maximum.', action: 'See the schema’s maximum.' },
  invalid_format: { status: 400, meaning: 'The text does not have the required format (UUID, email, date-time, pattern).', action: 'See `message` and the schema’s `format` or `pattern`.' },
  invalid_value: { status: 400, meaning: 'The value is not one of the allowed values; `message` lists them.', action: 'Use one of the listed values.' },
  unrecognized_keys: { status: 400, meaning: 'A field or query parameter that does not exist; `field` names it.', action: 'Remove it (check its spelling).' },
  invalid_union: { status: 400, meaning: 'The value matches none of the allowed shapes.', action: 'See the schema’s alternatives.' },
  invalid_key: { status: 400, meaning: 'A key of a map is invalid.', action: 'See the schema.' },
  invalid_element: { status: 400, meaning: 'An item of a collection is invalid.', action: 'See the schema.' },
  not_multiple_of: { status: 400, meaning: 'The number is not a multiple of the required step.', action: 'See the schema.' },
  custom: { status: 400, meaning: 'A rule across values failed; `message` says which.', action: 'Fix as `message` says.' },
  // Ours.
  invalid_characters: {
    status: 400,
    meaning: 'The text holds a NUL character or an unpaired UTF-16 surrogate, which no stored text can hold.',
    action: 'Remove the character (send well-formed Unicode).',
  },
  required: { status: 400, meaning: 'A required value is missing (import lines).', action: 'Add it.' },
  invalid_range: { status: 400, meaning: 'A range is reversed or too long (`from` after `to`, `moodMin` above `moodMax`).', action: 'Swap or shorten it.' },
  in_future: { status: 400, meaning: 'A date is in the future (5 minutes of clock skew allowed).', action: 'Send a past date, or leave it out for now.' },
  invalid_cursor: { status: 400, meaning: 'See the problem code of the same name.', action: 'Start again without `cursor`.' },
  unknown_term: { status: 400, meaning: 'An unknown vocabulary value.', action: 'Use a value from `GET /v1/vocabularies`.' },
  unknown_postal_code: { status: 400, meaning: 'An office’s ZIP code is unknown and it has no coordinates.', action: 'Check the ZIP code or give `latitude` and `longitude`.' },
  office_required: { status: 400, meaning: '`in_person` needs at least one office.', action: 'Add an office, or drop `in_person`.' },
  too_short: { status: 400, meaning: 'The password is shorter than 10 characters.', action: 'Choose a longer passphrase.' },
  too_long: { status: 400, meaning: 'The password is too long.', action: 'Choose a shorter one.' },
  too_common: { status: 400, meaning: 'The password is among the most common passwords.', action: 'Choose another.' },
  too_guessable: { status: 400, meaning: 'The password is too easy to guess (e.g. it contains the email or name).', action: 'Choose another.' },
  unknown_instrument: { status: 400, meaning: 'No such instrument (or version).', action: 'Use an id from `GET /v1/instruments`.' },
  unknown_item: { status: 400, meaning: 'An answer names an item the instrument does not have.', action: 'Use the item ids of `GET /v1/instruments/{id}`.' },
  duplicate_answer: { status: 400, meaning: 'An item is answered twice.', action: 'Answer each item once.' },
  invalid_option: { status: 400, meaning: 'An answer value is not one of the item’s options.', action: 'Use a value of the item’s `options`.' },
  missing_answer: { status: 400, meaning: 'A required item has no answer.', action: 'Answer every required item.' },
  invalid_json: { status: 400, meaning: 'An import line is not JSON.', action: 'Fix the line.' },
  line_too_long: { status: 200, meaning: 'An import line is over 256 KiB and was skipped unread.', action: 'Shorten it and import it again.' },
  write_failed: { status: 200, meaning: 'The database refused an import line.', action: 'Read `message`, fix the line and import it again.' },
  concurrent_write: { status: 200, meaning: 'Another request wrote the same therapist at the same moment.', action: 'Import the line again.' },
  line_limit: { status: 200, meaning: 'The import stopped at line 50,001; this line and the rest were not read.', action: 'Send them as another import.' },
  body_too_large: { status: 200, meaning: 'The import stopped at 64 MiB; this line and the rest were not read.', action: 'Send them as another import.' },
} as const satisfies Record<string, ErrorEntry>

export type FieldCode = keyof typeof FIELD_CODES

/** The token endpoint's errors, as RFC 6749 §5.2 defines them (`{error, error_description}`). */
export const OAUTH_ERRORS = {
  invalid_request: { status: 400, meaning: 'A parameter is missing or repeated, or credentials were sent two ways.', action: 'Send `grant_type=client_credentials` and the credentials once (Basic or body).' },
  invalid_client: { status: 401, meaning: 'Unknown client, wrong secret, or a deactivated app.', action: 'Check the credentials with the operator.' },
  invalid_grant: { status: 400, meaning: 'The grant is not valid.', action: 'Use the client-credentials grant.' },
  unauthorized_client: { status: 400, meaning: 'The app may not use this grant.', action: 'Ask the operator.' },
  unsupported_grant_type: { status: 400, meaning: 'Only `client_credentials` is supported here.', action: 'End users sign in at `/v1/auth/login`.' },
  invalid_scope: { status: 400, meaning: 'A requested scope is unknown or not granted to the app.', action: 'Request only the scopes the app was granted (or none, for all of them).' },
} as const satisfies Record<string, ErrorEntry>

/** The problem `type` of a code. */
export const errorType = (code: string): string => `${ERROR_TYPE_BASE}${code}`
