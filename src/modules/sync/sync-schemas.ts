import { z } from 'zod'

/** What happened to a therapist. A removed therapist imported again is `therapist.created` once more. */
export const CHANGE_TYPES = ['therapist.created', 'therapist.updated', 'therapist.deleted'] as const
/** Event types an endpoint may subscribe to; `webhook.test` is sent only by POST /v1/webhooks/{id}/test. */
export const WEBHOOK_EVENT_TYPES = [...CHANGE_TYPES, 'webhook.test'] as const
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

const Position = z.string().regex(/^\d{1,19}$/)

export const TherapistChangeSchema = z
  .object({
    id: z.uuid().describe('The event id; also the `webhook-id` of its deliveries, so receivers de-duplicate by it.'),
    type: z.enum(CHANGE_TYPES),
    position: Position.describe('Where the event sits in the feed (a decimal integer as a string). Increasing in commit order; not dense.'),
    therapistId: z.uuid(),
    occurredAt: z.iso.datetime().describe('When the writing transaction began.'),
    changedFields: z
      .array(z.string())
      .nullable()
      .describe('For `therapist.updated`: the profile members that changed (`name`, `license`, `offices`, `acceptingNewClients`, …); null otherwise. Fetch the profile for the new values.'),
  })
  .meta({ id: 'TherapistChange' })
export type TherapistChange = z.infer<typeof TherapistChangeSchema>

export const ChangesQuerySchema = z.object({
  after: z
    .union([z.literal('now'), Position])
    .default('0')
    .describe('`page.nextCursor` of the previous page; `now` for the current position (start of a first sync); omitted, the start of the retained log.'),
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Events per page, 1–1000.'),
})

export const ChangePageSchema = z
  .object({
    data: z.array(TherapistChangeSchema),
    page: z.object({
      nextCursor: Position.describe('Pass as `after` for the next page; the same value when nothing new happened. Never null: store it and poll with it.'),
      hasMore: z.boolean().describe('More events are available at once.'),
    }),
  })
  .meta({ id: 'TherapistChangePage' })
export type ChangePage = z.infer<typeof ChangePageSchema>

// ---- webhooks ----

export const WebhookUrlSchema = z.url({ error: 'must be an absolute URL' }).max(2000)

export const WebhookCreateSchema = z
  .strictObject({
    url: WebhookUrlSchema.describe('Where events are POSTed: https, on a public address. Redirects are not followed.'),
    eventTypes: z.array(z.enum(CHANGE_TYPES)).min(1).default([...CHANGE_TYPES]).describe('Event types to send; all by default.'),
    description: z.string().trim().max(500).default(''),
    active: z.boolean().default(true),
  })
  .meta({ id: 'WebhookCreate', example: { url: 'https://app.example.com/hooks/therapath', eventTypes: ['therapist.updated', 'therapist.deleted'], description: 'Saved therapists: push notices' } })

export const WebhookPatchSchema = z
  .strictObject({
    url: WebhookUrlSchema.optional(),
    eventTypes: z.array(z.enum(CHANGE_TYPES)).min(1).optional(),
    description: z.string().trim().max(500).optional(),
    active: z.boolean().optional().describe('`true` also re-enables an endpoint that was disabled after failing.'),
  })
  .meta({ id: 'WebhookPatch', example: { active: true } })

export const WebhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(z.enum(CHANGE_TYPES)),
    active: z.boolean().describe('False when paused by the app or disabled after failing (see `disabledAt`).'),
    disabledAt: z.iso.datetime().nullable().describe('When the endpoint was disabled for failing every attempt for WEBHOOK_DISABLE_AFTER_HOURS.'),
    disabledReason: z.string().nullable(),
    failingSince: z.iso.datetime().nullable(),
    secretRotatedUntil: z.iso.datetime().nullable().describe('Until then deliveries carry a signature with the previous secret too.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Webhook' })
export type Webhook = z.infer<typeof WebhookSchema>

export const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z.string().describe('The signing secret (`whsec_…`, Standard Webhooks). Shown only here: store it.'),
}).meta({ id: 'WebhookWithSecret' })

export const WebhookListSchema = z.object({ data: z.array(WebhookSchema), page: z.object({ nextCursor: z.string().nullable() }) }).meta({ id: 'WebhookList' })

export const WebhookIdParamsSchema = z.object({ id: z.uuid() })
export const DeliveryParamsSchema = z.object({ id: z.uuid(), deliveryId: z.uuid() })

export const RotateSecretSchema = z
  .strictObject({
    overlapSeconds: z.coerce.number().int().min(0).max(7 * 86_400).default(86_400).describe('How long the old secret keeps signing beside the new one (default a day).'),
  })
  .meta({ id: 'WebhookSecretRotation', example: { overlapSeconds: 86400 } })

export const DeliveryStatusSchema = z.enum(['pending', 'succeeded', 'failed'])

export const DeliverySchema = z
  .object({
    id: z.uuid(),
    messageId: z.uuid().describe('The `webhook-id` header: the event id.'),
    eventType: z.enum(WEBHOOK_EVENT_TYPES),
    therapistId: z.uuid().nullable(),
    position: z.string().nullable(),
    status: DeliveryStatusSchema.describe('`pending` (waiting or retrying), `succeeded`, or `failed` (gave up after 24 hours of retries, or the endpoint was disabled).'),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastLatencyMs: z.number().int().nullable(),
    nextAttemptAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    completedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'WebhookDelivery' })
export type Delivery = z.infer<typeof DeliverySchema>

export const DeliveryQuerySchema = z.object({
  status: DeliveryStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(1024).optional(),
})

export const DeliveryListSchema = z.object({ data: z.array(DeliverySchema), page: z.object({ nextCursor: z.string().nullable() }) }).meta({ id: 'WebhookDeliveryList' })
