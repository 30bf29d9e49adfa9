/**
 * What the OpenAPI document says beyond the routes' schemas, added once to the generated document:
 * `security: []` on public operations, the response headers every response or some responses carry
 * (request id, rate limits, Retry-After, Location, ETag, the idempotency replay marker), and a real
 * description where a response had none.
 */

type Json = Record<string, unknown>
interface Operation extends Json {
  operationId?: string
  summary?: string
  security?: unknown[]
  parameters?: { in?: string; name?: string }[]
  responses?: Record<string, Json & { description?: string; headers?: Json; content?: Record<string, { schema?: { $ref?: string } }> }>
}

const ref = (name: string) => ({ $ref: `#/components/headers/${name}` })

/** Reusable header objects (components.headers). */
export const RESPONSE_HEADERS: Record<string, Json> = {
  RequestId: {
    description: 'The request id: yours if you sent a plain `x-request-id` (letters, digits, `._:-`, up to 128), else a UUID. Quote it when reporting a problem.',
    schema: { type: 'string', example: '5d0b3c1e-2f5a-4f0e-9d55-3c2f0c7e9a11' },
  },
  RateLimitLimit: { description: 'Requests allowed in the current window by the limit closest to refusing this caller.', schema: { type: 'integer', example: 600 } },
  RateLimitRemaining: { description: 'Requests left in the current window under that limit.', schema: { type: 'integer', example: 599 } },
  RateLimitReset: { description: 'Seconds until the window ends.', schema: { type: 'integer', example: 42 } },
  RetryAfter: { description: 'Seconds to wait before retrying.', schema: { type: 'integer', example: 30 } },
  Location: { description: 'The path of the created resource.', schema: { type: 'string', example: '/v1/journal/entries/0b8e4c55-6e4a-4f3e-9a51-2f1d3c4b5a69' } },
  IdempotentReplayed: {
    description: '`true` when this answer is the replay of an earlier request with the same `Idempotency-Key` (nothing new was created).',
    schema: { type: 'string', enum: ['true'] },
  },
  ETag: {
    description: 'Strong entity tag of this representation: send it as `If-None-Match` on a GET (304 when unchanged) or as `If-Match` on PATCH/DELETE (412 when stale).',
    schema: { type: 'string', example: '"Qm9vdHN0cmFwcGVkIGV0YWcgZXhhbXBsZQ"' },
  },
  CacheControl: {
    description: '`private, max-age=…` for directory profiles and vocabularies (apps may keep them, then revalidate with `If-None-Match`); `no-store` for everything a user owns.',
    schema: { type: 'string', example: 'private, max-age=300' },
  },
}

/** Operations that answer without counting toward a rate limit (operations endpoints). */
const UNLIMITED = new Set(['getHealth', 'getReadiness', 'getMetrics'])

const STATUS_WORDS: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted', '204': 'No content: done', '304': 'Not modified' }

function componentDescription(document: Json, schemaRef: string | undefined): string | undefined {
  const name = schemaRef?.replace('#/components/schemas/', '')
  const schemas = (document.components as Json | undefined)?.schemas as Record<string, { description?: string }> | undefined
  return name ? schemas?.[name]?.description : undefined
}

/** The document with what the routes cannot say themselves. Pure: returns a new document. */
export function decorateDocument<T>(generated: T): T {
  const document = structuredClone(generated) as Json
  const components = (document.components as Json | undefined) ?? {}
  components.headers = { ...(components.headers as Json | undefined), ...RESPONSE_HEADERS }
  document.components = components
  describeCommonProperties(components.schemas)
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      if (typeof operation !== 'object' || !operation.responses) continue
      // Public operations say so, instead of inheriting nothing (RFC: an absent `security` means "as the document says").
      operation.security ??= []
      const idempotent = operation.parameters?.some((parameter) => parameter.in === 'header' && parameter.name === 'idempotency-key') ?? false
      const conditional = operation.parameters?.some((parameter) => parameter.in === 'header' && parameter.name === 'if-match') ?? false
      for (const [status, response] of Object.entries(operation.responses)) {
        const headers: Json = { 'x-request-id': ref('RequestId') }
        if (!UNLIMITED.has(operation.operationId ?? '')) {
          headers['RateLimit-Limit'] = ref('RateLimitLimit')
          headers['RateLimit-Remaining'] = ref('RateLimitRemaining')
          headers['RateLimit-Reset'] = ref('RateLimitReset')
        }
        if (status === '429' || status === '503') headers['Retry-After'] = ref('RetryAfter')
        if (status === '201') headers.Location = ref('Location')
        if (idempotent && (status === '200' || status === '201')) headers['Idempotent-Replayed'] = ref('IdempotentReplayed')
        if (status === '200' && (conditional || ETAG_OPERATIONS.has(operation.operationId ?? ''))) {
          headers.ETag = ref('ETag')
          headers['Cache-Control'] = ref('CacheControl')
        }
        response.headers = { ...headers, ...response.headers }
        if (!response.description || response.description === 'Default Response') {
          const described = componentDescription(document, response.content?.['application/json']?.schema?.$ref)
          const words = STATUS_WORDS[status] ?? 'Success'
          response.description = described ? `${words}: ${described.charAt(0).toLowerCase()}${described.slice(1)}` : `${words}: ${operation.summary ?? ''}.`
        }
      }
    }
  }
  return document as T
}

/** GET operations that answer with an ETag (and take If-None-Match), beside the writes that take If-Match. */
export const ETAG_OPERATIONS = new Set(['getTherapist', 'listModalities', 'listSpecialties', 'listVocabularies', 'getJournalEntry'])

/**
 * Descriptions for properties whose meaning is the same wherever they appear, for the properties a
 * schema left undescribed. A schema's own description always wins.
 */
export const COMMON_PROPERTY_DESCRIPTIONS: Record<string, string> = {
  id: 'Identifier of this object (a UUID where the format says so).',
  createdAt: 'When it was created (ISO 8601, UTC).',
  updatedAt: 'When it was last changed (ISO 8601, UTC).',
  takenAt: 'When the assessment was taken (ISO 8601, UTC).',
  occurredAt: 'When what the entry is about happened (ISO 8601, UTC).',
  data: 'The items of this page.',
  page: 'Cursor pagination: pass `nextCursor` back as `cursor` for the next page.',
  latitude: 'WGS 84 latitude in degrees.',
  longitude: 'WGS 84 longitude in degrees.',
  street: 'Street address.',
  city: 'City.',
  state: 'US state, two-letter USPS code.',
  postalCode: 'US ZIP code.',
  displayName: 'The name to show for the user; null when they gave none.',
  pronouns: 'The therapist’s pronouns, as they give them.',
  bio: 'The therapist’s own description of their practice.',
  acceptingNewClients: 'Whether the therapist takes new clients.',
  slidingScale: 'Whether fees are reduced for clients with less income.',
  feeMin: 'Lowest fee per session, in US dollars.',
  feeMax: 'Highest fee per session, in US dollars.',
  insurance: 'Insurance plans accepted (free text, as the therapist lists them).',
  credentials: 'Degrees and credentials, e.g. `MA`, `LMFT`.',
  yearsInPractice: 'Years in practice.',
  npi: 'US National Provider Identifier.',
  offices: 'Where the therapist sees clients in person.',
  mood: 'Mood from 1 (lowest) to 10 (highest).',
  intensity: 'How intense the conflict was, 1 (mild) to 10 (overwhelming).',
  meanMood: 'Mean mood of the entries counted, 1–10; null when there are none.',
  tags: 'The user’s own tags (normalised: lower case, spaces as `-`).',
  slug: 'Stable machine name of the term; use it in filters.',
  aliases: 'Other spellings accepted wherever the term is given (any case).',
  description: 'Plain-language description.',
  message: 'What is wrong, in plain language.',
  score: 'The total score, computed by the server.',
  version: 'Version of the instrument the result was scored with.',
  instrumentId: 'Id of the instrument, e.g. `phq-9`.',
  itemId: 'Id of the instrument item answered.',
  linkId: 'FHIR item link id (the item id).',
  system: 'Code system URI (FHIR Coding).',
  display: 'Human-readable text of the code (FHIR Coding).',
  resourceType: 'FHIR resource type.',
  nextCursor: 'Pass as `cursor` to get the next page; null on the last page.',
}

/** Fills undescribed properties from COMMON_PROPERTY_DESCRIPTIONS, everywhere in the schemas. */
export function describeCommonProperties(schema: unknown): void {
  if (typeof schema !== 'object' || schema === null) return
  if (Array.isArray(schema)) {
    for (const item of schema) describeCommonProperties(item)
    return
  }
  const object = schema as Record<string, unknown>
  const properties = object.properties as Record<string, Record<string, unknown>> | undefined
  if (properties && typeof properties === 'object') {
    for (const [name, property] of Object.entries(properties)) {
      const known = COMMON_PROPERTY_DESCRIPTIONS[name]
      if (known && typeof property === 'object' && property !== null && !('$ref' in property) && typeof property.description !== 'string') property.description = known
    }
  }
  for (const value of Object.values(object)) describeCommonProperties(value)
}
