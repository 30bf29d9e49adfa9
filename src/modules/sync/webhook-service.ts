import { randomUUID } from 'node:crypto'
import type { Database } from '../../db/database.js'
import { ConflictError, ForbiddenError, NotFoundError } from '../../lib/errors.js'
import { decodeCursor, encodeCursor } from '../../lib/pagination.js'
import type { Principal } from '../../lib/principal.js'
import { z } from 'zod'
import type { ChangesFeed } from './changes-feed.js'
import { type Delivery, type Webhook, CHANGE_TYPES } from './sync-schemas.js'
import { type DataKeyring, generateSecret, sealSecret } from './webhook-crypto.js'
import { checkWebhookUrl } from './webhook-url.js'

/**
 * Webhook endpoints, managed by apps (`webhooks:write`): each app sees and changes only its own. A new
 * endpoint starts at the feed's current position (it is sent what happens from then on); its secret is
 * returned at creation and rotation, and never again.
 */

export interface WebhookClock {
  now(): Date
}

export interface WebhookServiceOptions {
  db: Pick<Database, 'query'>
  keyring: DataKeyring
  feed: ChangesFeed
  clock: WebhookClock
  allowPrivateUrls: boolean
  /** How long a delivery is retried (24 hours). */
  retryWindowSeconds: number
}

interface EndpointRow {
  id: string
  url: string
  description: string
  event_types: string[]
  active: boolean
  disabled_at: string | null
  disabled_reason: string | null
  failing_since: string | null
  previous_expires_at: string | null
  created_at: string
  updated_at: string
}

const ENDPOINT_COLUMNS = `id, url, description, event_types, active,
  ${['disabled_at', 'failing_since', 'previous_expires_at', 'created_at', 'updated_at'].map((column) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`).join(', ')},
  disabled_reason`

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

const DELIVERY_COLUMNS = `id, message_id, event_type, therapist_id, position::text AS position, status, attempts, last_status_code, last_error, last_latency_ms,
  CASE WHEN status = 'pending' THEN ${iso('next_attempt_at')} END AS next_attempt_at, ${iso('created_at')} AS created_at, ${iso('completed_at')} AS completed_at`

interface DeliveryRow {
  id: string
  message_id: string
  event_type: Delivery['eventType']
  therapist_id: string | null
  position: string | null
  status: Delivery['status']
  attempts: number
  last_status_code: number | null
  last_error: string | null
  last_latency_ms: number | null
  next_attempt_at: string | null
  created_at: string
  completed_at: string | null
}

const toDelivery = (row: DeliveryRow): Delivery => ({
  id: row.id,
  messageId: row.message_id,
  eventType: row.event_type,
  therapistId: row.therapist_id,
  position: row.position,
  status: row.status,
  attempts: row.attempts,
  lastStatusCode: row.last_status_code,
  lastError: row.last_error,
  lastLatencyMs: row.last_latency_ms,
  nextAttemptAt: row.next_attempt_at,
  createdAt: row.created_at,
  completedAt: row.completed_at,
})

export function createWebhookService({ db, keyring, feed, clock, allowPrivateUrls, retryWindowSeconds }: WebhookServiceOptions) {
  const toWebhook = (row: EndpointRow): Webhook => ({
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.event_types.filter((type): type is (typeof CHANGE_TYPES)[number] => (CHANGE_TYPES as readonly string[]).includes(type)),
    active: row.active && row.disabled_at === null,
    disabledAt: row.disabled_at,
    disabledReason: row.disabled_reason,
    failingSince: row.failing_since,
    secretRotatedUntil: row.previous_expires_at !== null && new Date(row.previous_expires_at) > clock.now() ? row.previous_expires_at : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  })

  /** Endpoints belong to apps; user tokens never carry `webhooks:write`, but the owner must be an app all the same. */
  function ownerOf(principal: Principal): string {
    if (principal.kind !== 'client') throw new ForbiddenError('Webhooks belong to apps: use an app token (client credentials).', 'webhooks_app_only')
    return principal.clientId
  }

  async function owned(owner: string, id: string): Promise<EndpointRow> {
    const [row] = await db.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoint WHERE id = $1::uuid AND client_id = $2`, [id, owner])
    if (!row) throw new NotFoundError('webhook', id)
    return row
  }

  return {
    ownerOf,

    async create(principal: Principal, input: { url: string; eventTypes: string[]; description: string; active: boolean }): Promise<Webhook & { secret: string }> {
      const owner = ownerOf(principal)
      const url = await checkWebhookUrl(input.url, allowPrivateUrls)
      const id = randomUUID()
      const secret = generateSecret()
      const { sealed, keyId } = sealSecret(keyring, id, secret)
      const head = await feed.head()
      const [row] = await db.query<EndpointRow>(
        `INSERT INTO webhook_endpoint (id, client_id, url, description, event_types, active, secret_sealed, secret_key_id, cursor, created_at, updated_at)
         VALUES ($1::uuid, $2, $3, $4, $5::text[], $6, $7, $8, $9::bigint, $10::timestamptz, $10::timestamptz) RETURNING ${ENDPOINT_COLUMNS}`,
        [id, owner, url, input.description, [...new Set(input.eventTypes)], input.active, sealed, keyId, head.toString(), clock.now().toISOString()],
      )
      if (!row) throw new Error('webhook insert returned no row')
      return { ...toWebhook(row), secret }
    },

    async list(principal: Principal, limit: number, cursor?: string): Promise<{ data: Webhook[]; page: { nextCursor: string | null } }> {
      const owner = ownerOf(principal)
      const after = cursor ? decodeCursor(cursor, z.tuple([z.string(), z.uuid()])) : null
      const rows = await db.query<EndpointRow & { sort: string }>(
        `SELECT ${ENDPOINT_COLUMNS}, created_at::text AS sort FROM webhook_endpoint WHERE client_id = $1
         AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid)) ORDER BY created_at, id LIMIT $4`,
        [owner, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
      )
      const kept = rows.slice(0, limit)
      const last = kept.at(-1)
      return { data: kept.map(toWebhook), page: { nextCursor: rows.length > limit && last ? encodeCursor([last.sort, last.id]) : null } }
    },

    async get(principal: Principal, id: string): Promise<Webhook> {
      return toWebhook(await owned(ownerOf(principal), id))
    },

    async patch(principal: Principal, id: string, patch: { url?: string | undefined; eventTypes?: string[] | undefined; description?: string | undefined; active?: boolean | undefined }): Promise<Webhook> {
      const owner = ownerOf(principal)
      await owned(owner, id)
      const url = patch.url === undefined ? null : await checkWebhookUrl(patch.url, allowPrivateUrls)
      // Re-activating also ends a disablement: the endpoint takes up its pending deliveries again.
      const [row] = await db.query<EndpointRow>(
        `UPDATE webhook_endpoint SET url = COALESCE($3::text, url), event_types = COALESCE($4::text[], event_types), description = COALESCE($5::text, description),
           active = COALESCE($6::boolean, active),
           disabled_at = CASE WHEN $6::boolean IS TRUE THEN NULL ELSE disabled_at END,
           disabled_reason = CASE WHEN $6::boolean IS TRUE THEN NULL ELSE disabled_reason END,
           failing_since = CASE WHEN $6::boolean IS TRUE THEN NULL ELSE failing_since END,
           updated_at = $7::timestamptz
         WHERE id = $1::uuid AND client_id = $2 RETURNING ${ENDPOINT_COLUMNS}`,
        [id, owner, url, patch.eventTypes ? [...new Set(patch.eventTypes)] : null, patch.description ?? null, patch.active ?? null, clock.now().toISOString()],
      )
      if (!row) throw new NotFoundError('webhook', id)
      return toWebhook(row)
    },

    async remove(principal: Principal, id: string): Promise<void> {
      const rows = await db.query<{ id: string }>(`DELETE FROM webhook_endpoint WHERE id = $1::uuid AND client_id = $2 RETURNING id`, [id, ownerOf(principal)])
      if (rows.length === 0) throw new NotFoundError('webhook', id)
    },

    /** A new secret; the current one keeps signing beside it for `overlapSeconds`, so receivers can switch without losing a message. */
    async rotateSecret(principal: Principal, id: string, overlapSeconds: number): Promise<Webhook & { secret: string }> {
      const owner = ownerOf(principal)
      await owned(owner, id)
      const secret = generateSecret()
      const { sealed, keyId } = sealSecret(keyring, id, secret)
      const now = clock.now()
      const [row] = await db.query<EndpointRow>(
        `UPDATE webhook_endpoint SET previous_sealed = secret_sealed, previous_key_id = secret_key_id, previous_expires_at = $3::timestamptz,
           secret_sealed = $4, secret_key_id = $5, updated_at = $6::timestamptz
         WHERE id = $1::uuid AND client_id = $2 RETURNING ${ENDPOINT_COLUMNS}`,
        [id, owner, new Date(now.getTime() + overlapSeconds * 1000).toISOString(), sealed, keyId, now.toISOString()],
      )
      if (!row) throw new NotFoundError('webhook', id)
      return { ...toWebhook(row), secret }
    },

    /** Queues a `webhook.test` message to the endpoint (sent by the delivery worker like any other). */
    async test(principal: Principal, id: string): Promise<Delivery> {
      const endpoint = await owned(ownerOf(principal), id)
      if (endpoint.disabled_at !== null || !endpoint.active) throw new ConflictError('The webhook is not active; PATCH it with active: true first.', 'webhook_inactive')
      const now = clock.now().toISOString()
      const messageId = randomUUID()
      const payload = JSON.stringify({ type: 'webhook.test', timestamp: now, data: { webhookId: id, message: 'A test message from Therapath.' } })
      const [row] = await db.query<DeliveryRow>(
        `INSERT INTO webhook_delivery (id, endpoint_id, message_id, event_type, payload, next_attempt_at, created_at, give_up_at)
         VALUES ($1::uuid, $2::uuid, $3::uuid, 'webhook.test', $4, $5::timestamptz, $5::timestamptz, $5::timestamptz + make_interval(secs => $6::float8)) RETURNING ${DELIVERY_COLUMNS}`,
        [randomUUID(), id, messageId, payload, now, retryWindowSeconds],
      )
      if (!row) throw new Error('delivery insert returned no row')
      return toDelivery(row)
    },

    async deliveries(principal: Principal, id: string, query: { status?: Delivery['status'] | undefined; limit: number; cursor?: string | undefined }) {
      await owned(ownerOf(principal), id)
      const after = query.cursor ? decodeCursor(query.cursor, z.tuple([z.string(), z.uuid()])) : null
      const rows = await db.query<DeliveryRow & { sort: string }>(
        `SELECT ${DELIVERY_COLUMNS}, created_at::text AS sort FROM webhook_delivery WHERE endpoint_id = $1::uuid AND ($2::text IS NULL OR status = $2)
         AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid)) ORDER BY created_at DESC, id DESC LIMIT $5`,
        [id, query.status ?? null, after?.[0] ?? null, after?.[1] ?? null, query.limit + 1],
      )
      const kept = rows.slice(0, query.limit)
      const last = kept.at(-1)
      return { data: kept.map(toDelivery), page: { nextCursor: rows.length > query.limit && last ? encodeCursor([last.sort, last.id]) : null } }
    },

    /** Sends a delivery again now (a failed one gets another 24 hours of retries); a delivery in flight is left alone. */
    async retry(principal: Principal, id: string, deliveryId: string): Promise<Delivery> {
      await owned(ownerOf(principal), id)
      const now = clock.now().toISOString()
      const [row] = await db.query<DeliveryRow>(
        `UPDATE webhook_delivery SET status = 'pending', next_attempt_at = $3::timestamptz, completed_at = NULL,
           give_up_at = GREATEST(give_up_at, $3::timestamptz + make_interval(secs => $4::float8))
         WHERE id = $2::uuid AND endpoint_id = $1::uuid AND (lease_until IS NULL OR lease_until <= $3::timestamptz) RETURNING ${DELIVERY_COLUMNS}`,
        [id, deliveryId, now, retryWindowSeconds],
      )
      if (row) return toDelivery(row)
      const [exists] = await db.query<{ id: string }>(`SELECT id FROM webhook_delivery WHERE id = $2::uuid AND endpoint_id = $1::uuid`, [id, deliveryId])
      if (!exists) throw new NotFoundError('delivery', deliveryId)
      throw new ConflictError('The delivery is being sent right now; look again in a few seconds.', 'delivery_in_flight')
    },
  }
}

export type WebhookService = ReturnType<typeof createWebhookService>
