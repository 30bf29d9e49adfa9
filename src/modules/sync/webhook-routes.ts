import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram } from 'prom-client'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Config } from '../../config.js'
import { problemResponses } from '../../lib/problem.js'
import { currentPrincipal, type RouteAuth } from '../../lib/principal.js'
import {
  DeliveryListSchema,
  DeliveryParamsSchema,
  DeliveryQuerySchema,
  DeliverySchema,
  RotateSecretSchema,
  WebhookCreateSchema,
  WebhookIdParamsSchema,
  WebhookListSchema,
  WebhookPatchSchema,
  WebhookSchema,
  WebhookWithSecretSchema,
} from './sync-schemas.js'
import type { DataKeyring } from './webhook-crypto.js'
import { createWebhookService, type WebhookClock } from './webhook-service.js'
import { createDeliveryWorker, createHttpSender, type DeliveryWorker, type RunReport, type Sender } from './webhook-worker.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The webhook delivery worker, callable on demand (operators, tests). */
    webhooks: {
      worker: DeliveryWorker
      /** One round of delivery now: fan-out, then send whatever is due. */
      deliver(): Promise<RunReport>
    }
  }
}

type WebhooksConfig = Pick<Config, 'DIRECTORY_CHANGES_RETENTION_DAYS' | 'WEBHOOK_DELIVERY_INTERVAL_MS' | 'WEBHOOK_LEASE_SECONDS' | 'WEBHOOK_DISABLE_AFTER_HOURS' | 'WEBHOOK_ALLOW_PRIVATE_URLS'>

export interface WebhooksOptions {
  config: WebhooksConfig
  keyring: DataKeyring
  clock?: WebhookClock | undefined
  /** How deliveries are POSTed; defaults to node:http(s) with the SSRF guard. */
  send?: Sender | undefined
}

const HOOKS: RouteAuth = { scope: 'webhooks:write', principal: 'any' }
const RETRY_WINDOW_SECONDS = 24 * 3600

const webhooksPlugin: FastifyPluginAsyncZod<WebhooksOptions> = async (app, { config, keyring, clock = { now: () => new Date() }, send }) => {
  const feed = app.directoryChanges.feed
  const webhooks = createWebhookService({ db: app.db, keyring, feed, clock, allowPrivateUrls: config.WEBHOOK_ALLOW_PRIVATE_URLS, retryWindowSeconds: RETRY_WINDOW_SECONDS })

  const attempts = new Counter({
    name: 'therapath_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: succeeded, retrying (failed, tried again later) or failed (gave up)',
    labelNames: ['outcome'] as const,
    registers: [app.metrics],
  })
  const latency = new Histogram({
    name: 'therapath_webhook_delivery_duration_seconds',
    help: 'Time a receiver took to answer a delivery attempt',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [app.metrics],
  })
  const lag = new Histogram({
    name: 'therapath_webhook_delivery_lag_seconds',
    help: 'From a directory change to its successful delivery',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86_400],
    registers: [app.metrics],
  })
  const disabled = new Counter({ name: 'therapath_webhook_endpoints_disabled_total', help: 'Endpoints disabled after failing too long', registers: [app.metrics] })
  const position = new Gauge({
    name: 'therapath_directory_change_position',
    help: "The change log's latest position as this instance last saw it: its rate is events appended per second",
    registers: [app.metrics],
  })
  const depth = new Gauge({ name: 'therapath_webhook_queue_depth', help: 'Webhook deliveries pending (waiting, in flight or retrying), as last counted', registers: [app.metrics] })

  const sender = send ?? createHttpSender({ allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_URLS })
  const worker = createDeliveryWorker({
    db: app.db,
    keyring,
    clock,
    log: app.log,
    send: sender,
    leaseMs: config.WEBHOOK_LEASE_SECONDS * 1000,
    disableAfterMs: config.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
    observer: {
      attempt(outcome, seconds, lagSeconds) {
        attempts.inc({ outcome })
        latency.observe(seconds)
        if (lagSeconds !== null) lag.observe(lagSeconds)
      },
      disabled: () => disabled.inc(),
    },
  })
  app.decorate('webhooks', { worker, deliver: () => worker.runOnce() })

  // The background loop: one round at a time; failures are logged and the next round retries. /readyz does not
  // look at it, so failing receivers never make an instance unready.
  const interval = config.WEBHOOK_DELIVERY_INTERVAL_MS
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let closed = false
  let lastCount = 0
  let lastPrune = Date.now()
  const round = async () => {
    try {
      await worker.runOnce()
      const now = Date.now()
      if (now - lastCount >= 5_000) {
        lastCount = now
        const [stats] = await app.db.query<{ head: string; pending: number }>(
          `SELECT COALESCE((SELECT max(position) FROM therapist_event), 0)::text AS head, (SELECT count(*)::int FROM webhook_delivery WHERE status = 'pending') AS pending`,
        )
        position.set(Number(stats?.head ?? 0))
        depth.set(stats?.pending ?? 0)
      }
      // Delivery history is kept as long as the change log keeps events.
      if (now - lastPrune >= 3_600_000) {
        lastPrune = now
        await worker.prune(new Date(clock.now().getTime() - config.DIRECTORY_CHANGES_RETENTION_DAYS * 86_400_000))
      }
    } catch (error) {
      app.log.warn({ err: error }, 'webhook delivery round failed; the next round retries')
    }
  }
  const schedule = () => {
    if (closed) return
    timer = setTimeout(() => {
      running = round().finally(() => {
        running = undefined
        schedule()
      })
    }, interval)
    timer.unref()
  }
  if (interval > 0) app.addHook('onReady', async () => schedule())
  app.addHook('onClose', async () => {
    closed = true
    clearTimeout(timer)
    await running
    if ('close' in sender && typeof sender.close === 'function') (sender as { close(): void }).close()
  })

  app.post(
    '/v1/webhooks',
    {
      config: { auth: HOOKS },
      schema: {
        tags: ['webhooks'],
        operationId: 'createWebhook',
        summary: 'Add a webhook endpoint',
        description:
          'Directory events from now on are POSTed to `url` (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`), at least once and in order per therapist, ' +
          'retried with exponential backoff for 24 hours. The URL must be https on a public address. The signing `secret` is in this response only.',
        body: WebhookCreateSchema,
        response: { 201: WebhookWithSecretSchema, ...problemResponses(400, 403) },
      },
    },
    async (request, reply) => {
      const created = await webhooks.create(currentPrincipal(request), request.body)
      return reply.status(201).header('location', `/v1/webhooks/${created.id}`).send(created)
    },
  )

  app.get(
    '/v1/webhooks',
    {
      config: { auth: HOOKS },
      schema: {
        tags: ['webhooks'],
        operationId: 'listWebhooks',
        summary: "List the app's webhook endpoints",
        description: 'Oldest first.',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20), cursor: z.string().max(1024).optional() }),
        response: { 200: WebhookListSchema, ...problemResponses(400, 403) },
      },
    },
    async (request) => webhooks.list(currentPrincipal(request), request.query.limit, request.query.cursor),
  )

  app.get(
    '/v1/webhooks/:id',
    {
      config: { auth: HOOKS },
      schema: {
        tags: ['webhooks'],
        operationId: 'getWebhook',
        summary: 'Get a webhook endpoint',
        description: 'Its settings and health (failing since, disabled). The secret is never shown again; rotate it to get a new one.',
        params: WebhookIdParamsSchema,
        response: { 200: WebhookSchema, ...problemResponses(400, 403, 404) },
      },
    },
    async (request) => webhooks.get(currentPrincipal(request), request.params.id),
  )

  app.patch(
    '/v1/webhooks/:id',
    {
      config: { auth: HOOKS },
      schema: {
        tags: ['webhooks'],
        operationId: 'updateWebhook',
        summary: 'Change a webhook endpoint',
        description: 'URL, event types, description, active. `active: false` pauses (events are kept for it and sent on resuming, within the retention); `active: true` also re-enables a disabled endpoint.',
        params: WebhookIdParamsSchema,
        body: WebhookPatchSchema,
        response: { 200: WebhookSchema, ...problemResponses(400, 403, 404) },
      },
    },
    async (request) => webhooks.patch(currentPrincipal(request), request.params.id, request.body),
  )

  app.delete(
    '/v1/webhooks/:id',
    {
      config: { auth: HOOKS },
      schema: {
        tags: ['webhooks'],
        operationId: 'deleteWebhook',
        summary: 'Remove a webhook endpoint',
        description: 'Nothing more is sent to it; its delivery history goes with it.',
        params: WebhookIdParamsSchema,
        response: { 204: z.null().describe('Removed.'), ...problemResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      await webhooks.remove(currentPrincipal(request), request.params.id)
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      config: { auth: HOOKS },
      schema: {
        tags: ['webhooks'],
        operationId: 'rotateWebhookSecret',
        summary: "Rotate a webhook endpoint's signing secret",
        description:
          'Returns a new secret (shown only here). For `overlapSeconds` (a day by default) every message carries two signatures, with the new and the old secret, ' +
          'so the receiver can switch secrets without rejecting a message.',
        params: WebhookIdParamsSchema,
        body: RotateSecretSchema.optional(),
        response: { 200: WebhookWithSecretSchema, ...problemResponses(400, 403, 404) },
      },
    },
    async (request) => webhooks.rotateSecret(currentPrincipal(request), request.params.id, request.body?.overlapSeconds ?? 86_400),
  )

  app.post(
    '/v1/webhooks/:id/test',
    {
      config: { auth: HOOKS },
      schema: {
        tags: ['webhooks'],
        operationId: 'testWebhook',
        summary: 'Send a test message',
        description: 'Queues a signed `webhook.test` message to the endpoint, delivered like any other; follow it in the deliveries list.',
        params: WebhookIdParamsSchema,
        response: { 202: DeliverySchema, ...problemResponses(400, 403, 404, 409) },
      },
    },
    async (request, reply) => reply.status(202).send(await webhooks.test(currentPrincipal(request), request.params.id)),
  )

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      config: { auth: HOOKS },
      schema: {
        tags: ['webhooks'],
        operationId: 'listWebhookDeliveries',
        summary: "List an endpoint's deliveries",
        description: 'Newest first, with status, attempts, the last response code, error and latency.',
        params: WebhookIdParamsSchema,
        querystring: DeliveryQuerySchema,
        response: { 200: DeliveryListSchema, ...problemResponses(400, 403, 404) },
      },
    },
    async (request) => webhooks.deliveries(currentPrincipal(request), request.params.id, request.query),
  )

  app.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/retry',
    {
      config: { auth: HOOKS },
      schema: {
        tags: ['webhooks'],
        operationId: 'retryWebhookDelivery',
        summary: 'Send a delivery again',
        description: 'Schedules the delivery now, with another 24 hours of retries if it had failed. 409 `delivery_in_flight` while it is being sent.',
        params: DeliveryParamsSchema,
        response: { 202: DeliverySchema, ...problemResponses(400, 403, 404, 409) },
      },
    },
    async (request, reply) => reply.status(202).send(await webhooks.retry(currentPrincipal(request), request.params.id, request.params.deliveryId)),
  )
}

/**
 * Directory sync by push: apps' webhook endpoints (Standard Webhooks signatures) and the worker that
 * delivers the change log to them. Not encapsulated, so `app.webhooks` reaches operators' tooling and tests.
 */
export const webhooksRoutes = fp(webhooksPlugin, { name: 'webhooks', dependencies: ['database', 'metrics', 'directory-changes'] })
