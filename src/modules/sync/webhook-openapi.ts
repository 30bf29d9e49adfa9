import { CHANGE_TYPES } from './sync-schemas.js'

/**
 * The OpenAPI 3.1 `webhooks` section: what we POST to an app's endpoint, per event type. The event
 * itself is the `TherapistChange` schema of the pull feed (components), so both paths share one contract.
 */

const SIGNATURE_HEADERS = [
  {
    name: 'webhook-id',
    in: 'header',
    required: true,
    description: 'The message id: the event id, the same on every retry. De-duplicate by it.',
    schema: { type: 'string', format: 'uuid' },
  },
  {
    name: 'webhook-timestamp',
    in: 'header',
    required: true,
    description: 'Seconds since the epoch when this attempt was signed. Refuse messages more than 5 minutes away from your clock (replays).',
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  {
    name: 'webhook-signature',
    in: 'header',
    required: true,
    description:
      'Space-separated `v1,<base64>` signatures (two while a rotated secret overlaps): base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{raw body}`, ' +
      'keyed with the base64-decoded part of the secret after `whsec_`. Accept the message if any signature matches (constant-time comparison).',
    schema: { type: 'string' },
  },
]

const RESPONSES = {
  '2XX': { description: 'Received. Any other status, a redirect, or no answer within 10 seconds is retried (exponential backoff with jitter, for 24 hours).' },
}

const DESCRIPTIONS: Record<string, string> = {
  'therapist.created': 'A therapist was added to the directory (or a removed one came back through an import).',
  'therapist.updated': 'A therapist’s profile changed; `data.changedFields` names the members. Fetch the profile for the new values.',
  'therapist.deleted': 'A therapist was removed from the directory: drop it from your copy.',
}

const changePayload = (type: string) => ({
  type: 'object',
  required: ['type', 'timestamp', 'data'],
  properties: {
    type: { type: 'string', const: type },
    timestamp: { type: 'string', format: 'date-time', description: 'When the event occurred.' },
    data: { $ref: '#/components/schemas/TherapistChange' },
  },
})

const testPayload = {
  type: 'object',
  required: ['type', 'timestamp', 'data'],
  properties: {
    type: { type: 'string', const: 'webhook.test' },
    timestamp: { type: 'string', format: 'date-time' },
    data: {
      type: 'object',
      required: ['webhookId', 'message'],
      properties: { webhookId: { type: 'string', format: 'uuid' }, message: { type: 'string' } },
    },
  },
}

const operation = (type: string, summary: string, description: string, schema: object) => ({
  post: {
    tags: ['webhooks'],
    operationId: `${type.replace(/\.(\w)/g, (_match: string, letter: string) => letter.toUpperCase())}Webhook`,
    summary,
    description,
    parameters: SIGNATURE_HEADERS,
    // Therapath calls the app: no bearer token; the receiver verifies the webhook-signature header instead.
    security: [],
    requestBody: { required: true, content: { 'application/json': { schema } } },
    responses: RESPONSES,
  },
})

export function withWebhooks<T extends object>(document: T): T {
  const webhooks: Record<string, ReturnType<typeof operation>> = {}
  for (const type of CHANGE_TYPES) webhooks[type] = operation(type, `Event ${type}`, DESCRIPTIONS[type] ?? type, changePayload(type))
  webhooks['webhook.test'] = operation('webhook.test', 'Test message', 'Sent by POST /v1/webhooks/{id}/test.', testPayload)
  return { ...document, webhooks }
}
