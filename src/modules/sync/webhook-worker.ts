import { randomUUID } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../../db/database.js'
import { type DataKeyring, openSecret, signedHeaders } from './webhook-crypto.js'
import { isPublicAddress, publicLookup } from './webhook-url.js'
import type { WebhookClock } from './webhook-service.js'

/**
 * Delivers webhook messages, at least once, in order per therapist and endpoint, from any number of
 * instances without double sends:
 *
 * 1. Fan-out: each endpoint's `cursor` walks the change log (which readers never see out of order, see
 *    changes-feed.ts); events of subscribed types become delivery rows. The endpoint row is locked with
 *    SKIP LOCKED for the statement, and (endpoint, message) is unique, so two instances never copy twice.
 * 2. Claim: due deliveries are leased with `FOR UPDATE SKIP LOCKED` (one statement: concurrent claimers
 *    skip each other's rows) for WEBHOOK_LEASE_SECONDS, with a fresh token. A delivery waits while an
 *    earlier one for the same therapist and endpoint is pending, so at most one message per therapist is
 *    in flight and they arrive in order. A crashed instance's leases run out and the rows are claimed
 *    again (at least once: the receiver de-duplicates by `webhook-id`).
 * 3. Send: POST with the Standard Webhooks headers, 10 s timeout, no redirects, connecting only to
 *    public addresses (unless WEBHOOK_ALLOW_PRIVATE_URLS).
 * 4. Complete: only while the lease token is still ours. 2xx succeeds; anything else is retried with
 *    exponential backoff and jitter until `give_up_at` (24 hours). An endpoint whose every attempt has
 *    failed for WEBHOOK_DISABLE_AFTER_HOURS is disabled.
 *
 * All times come from the injected clock, so tests move through a day of retries instantly.
 */

export interface SendResult {
  statusCode: number | null
  error: string | null
  latencyMs: number
}

export type Sender = (url: string, headers: Record<string, string>, body: string) => Promise<SendResult>

export const DELIVERY_TIMEOUT_MS = 10_000
/** Response bodies are read (to reuse the connection) up to this much, and otherwise ignored. */
const MAX_RESPONSE_BYTES = 64 * 1024

/**
 * POSTs over node:http(s): no redirects (a 3xx is a failed attempt), 10 s for the whole exchange, and
 * unless private URLs are allowed, a DNS lookup that refuses non-public addresses at connect time.
 */
export function createHttpSender({ allowPrivate, timeoutMs = DELIVERY_TIMEOUT_MS }: { allowPrivate: boolean; timeoutMs?: number }): Sender & { close(): void } {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
  }
  const sender = (url: string, headers: Record<string, string>, body: string): Promise<SendResult> => {
    const started = performance.now()
    const target = new URL(url)
    const done = (statusCode: number | null, error: string | null): SendResult => ({ statusCode, error, latencyMs: Math.round(performance.now() - started) })
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1')
    if (!allowPrivate && (target.protocol !== 'https:' || (isIP(host) !== 0 && !isPublicAddress(host)))) {
      return Promise.resolve(done(null, 'the URL is not https on a public address'))
    }
    return new Promise((resolve) => {
      let settled = false
      const finish = (result: SendResult) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(result)
      }
      const options: http.RequestOptions = {
        method: 'POST',
        agent: target.protocol === 'https:' ? agents['https:'] : agents['http:'],
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Therapath-Webhooks/1' },
        ...(allowPrivate ? {} : { lookup: publicLookup }),
      }
      const onResponse = (response: http.IncomingMessage) => {
        let read = 0
        response.on('data', (chunk: Buffer) => {
          read += chunk.length
          if (read > MAX_RESPONSE_BYTES) response.destroy()
        })
        const status = response.statusCode ?? 0
        const outcome = () => finish(done(status, status >= 200 && status < 300 ? null : `HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`))
        response.on('end', outcome)
        response.on('close', outcome)
        response.on('error', outcome)
      }
      const request = target.protocol === 'https:' ? https.request(target, options, onResponse) : http.request(target, options, onResponse)
      const timer = setTimeout(() => {
        request.destroy(new Error(`no response within ${timeoutMs / 1000} s`))
      }, timeoutMs)
      request.on('error', (error: NodeJS.ErrnoException) => finish(done(null, error.code === 'EADDRNOTPUBLIC' ? error.message : `${error.code ?? 'error'}: ${error.message}`.slice(0, 300))))
      request.end(body)
    })
  }
  return Object.assign(sender, {
    close() {
      agents['http:'].destroy()
      agents['https:'].destroy()
    },
  })
}

export interface DeliveryObserver {
  /** One attempt: its outcome, how long the request took, and (succeeded) how long since the event occurred. */
  attempt(outcome: 'succeeded' | 'retrying' | 'failed', latencySeconds: number, lagSeconds: number | null): void
  disabled(): void
}

export interface DeliveryWorkerOptions {
  db: Pick<Database, 'query'>
  keyring: DataKeyring
  clock: WebhookClock
  log: FastifyBaseLogger
  send: Sender
  leaseMs: number
  disableAfterMs: number
  /** Deliveries claimed (and sent concurrently) at a time. */
  batchSize?: number
  /** Events copied into deliveries per statement. */
  fanOutBatch?: number
  random?: () => number
  observer?: DeliveryObserver
}

interface ClaimedRow {
  id: string
  lease_token: string
  message_id: string
  payload: string
  attempts: number
  give_up_at: Date | string
  endpoint_id: string
  url: string
  secret_sealed: Uint8Array
  secret_key_id: string
  previous_sealed: Uint8Array | null
  previous_key_id: string | null
  previous_expires_at: Date | string | null
}

/** Retry delays: 5 s doubling to at most an hour, each with "equal jitter" (half fixed, half random). */
const BACKOFF_BASE_MS = 5_000
const BACKOFF_MAX_MS = 3_600_000

export function backoffMs(attempts: number, random: () => number): number {
  const ceiling = Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS)
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

const FAN_OUT_SQL = `WITH ep AS (
  SELECT id, cursor, event_types FROM webhook_endpoint WHERE id = $1::uuid AND active AND disabled_at IS NULL FOR UPDATE SKIP LOCKED
),
ev AS (
  SELECT e.* FROM therapist_event e, ep WHERE e.position > ep.cursor ORDER BY e.position LIMIT $2
),
ins AS (
  INSERT INTO webhook_delivery (id, endpoint_id, message_id, event_type, therapist_id, position, payload, next_attempt_at, created_at, give_up_at)
  SELECT gen_random_uuid(), ep.id, ev.id, ev.type, ev.therapist_id, ev.position,
    json_build_object('type', ev.type, 'timestamp', to_char(ev.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'data', json_build_object('id', ev.id, 'type', ev.type, 'position', ev.position::text, 'therapistId', ev.therapist_id,
        'occurredAt', to_char(ev.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'changedFields', ev.changed_fields))::text,
    $3::timestamptz, $3::timestamptz, $3::timestamptz + make_interval(secs => $4::float8)
  FROM ev, ep WHERE ev.type = ANY(ep.event_types)
  ON CONFLICT (endpoint_id, message_id) DO NOTHING
  RETURNING 1
),
moved AS (
  UPDATE webhook_endpoint w SET cursor = (SELECT max(position) FROM ev) FROM ep WHERE w.id = ep.id AND EXISTS (SELECT 1 FROM ev) RETURNING 1
)
SELECT (SELECT count(*) FROM ev)::int AS read, (SELECT count(*) FROM ins)::int AS queued, (SELECT count(*) FROM ep)::int AS locked`

const CLAIM_SQL = `WITH c AS (
  SELECT d.id FROM webhook_delivery d JOIN webhook_endpoint w ON w.id = d.endpoint_id
  WHERE d.status = 'pending' AND d.next_attempt_at <= $1::timestamptz AND (d.lease_until IS NULL OR d.lease_until <= $1::timestamptz)
    AND w.active AND w.disabled_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM webhook_delivery p WHERE p.endpoint_id = d.endpoint_id AND p.therapist_id = d.therapist_id
                    AND p.status = 'pending' AND p.position < d.position)
  ORDER BY d.next_attempt_at -- the index's order: a claim reads a few rows, never sorts the backlog (order per therapist is the NOT EXISTS)
  LIMIT $2
  FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_delivery d SET lease_until = $3::timestamptz, lease_token = $4::uuid, attempts = d.attempts + 1
FROM c, webhook_endpoint w WHERE d.id = c.id AND w.id = d.endpoint_id
RETURNING d.id, d.lease_token, d.message_id, d.payload, d.attempts, d.give_up_at, w.id AS endpoint_id, w.url,
  w.secret_sealed, w.secret_key_id, w.previous_sealed, w.previous_key_id, w.previous_expires_at`

const COMPLETE_SQL = `WITH r AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, token uuid, ok bool, give_up bool, code int, error text, latency int, next_at timestamptz)
)
UPDATE webhook_delivery d SET
  status = CASE WHEN r.ok THEN 'succeeded' WHEN r.give_up THEN 'failed' ELSE 'pending' END,
  completed_at = CASE WHEN r.ok OR r.give_up THEN $2::timestamptz END,
  next_attempt_at = COALESCE(r.next_at, d.next_attempt_at),
  last_status_code = r.code, last_error = r.error, last_latency_ms = r.latency, lease_until = NULL, lease_token = NULL
FROM r WHERE d.id = r.id AND d.lease_token = r.token
RETURNING d.id`

export interface RunReport {
  queued: number
  attempts: number
  succeeded: number
  failed: number
}

export function createDeliveryWorker(options: DeliveryWorkerOptions) {
  const { db, keyring, clock, log, send, leaseMs, disableAfterMs, batchSize = 64, fanOutBatch = 2000, random = Math.random, observer } = options
  const retryWindowSeconds = 24 * 3600

  /** Copies new events into deliveries for every active endpoint. */
  async function fanOut(): Promise<number> {
    const endpoints = await db.query<{ id: string }>(
      `SELECT id FROM webhook_endpoint WHERE active AND disabled_at IS NULL AND cursor < COALESCE((SELECT max(position) FROM therapist_event), 0)`,
    )
    let queued = 0
    for (const { id } of endpoints) {
      for (;;) {
        const [row] = await db.query<{ read: number; queued: number; locked: number }>(FAN_OUT_SQL, [id, fanOutBatch, clock.now().toISOString(), retryWindowSeconds])
        queued += row?.queued ?? 0
        if (!row || row.locked === 0 || row.read < fanOutBatch) break
      }
    }
    return queued
  }

  /** Leases up to `limit` due deliveries for this instance. */
  async function claim(limit = batchSize): Promise<ClaimedRow[]> {
    const now = clock.now()
    return db.query<ClaimedRow>(CLAIM_SQL, [now.toISOString(), limit, new Date(now.getTime() + leaseMs).toISOString(), randomUUID()])
  }

  const secretsCache = new Map<string, string>()
  function secretsOf(row: ClaimedRow, now: Date): string[] {
    const opened = (sealed: Uint8Array, keyId: string) => {
      const key = `${row.endpoint_id}:${keyId}:${Buffer.from(sealed).toString('base64')}`
      let secret = secretsCache.get(key)
      if (secret === undefined) {
        secret = openSecret(keyring, row.endpoint_id, keyId, sealed)
        if (secretsCache.size > 1000) secretsCache.clear()
        secretsCache.set(key, secret)
      }
      return secret
    }
    const secrets = [opened(row.secret_sealed, row.secret_key_id)]
    if (row.previous_sealed && row.previous_key_id && row.previous_expires_at && new Date(row.previous_expires_at) > now) {
      secrets.push(opened(row.previous_sealed, row.previous_key_id))
    }
    return secrets
  }

  /** Sends claimed deliveries concurrently and records each outcome (only while the lease is still ours). */
  async function deliver(claimed: ClaimedRow[]): Promise<{ succeeded: number; failed: number }> {
    const sent = await Promise.all(
      claimed.map(async (row) => {
        const now = clock.now()
        let result: SendResult
        try {
          const timestamp = Math.floor(now.getTime() / 1000)
          result = await send(row.url, signedHeaders(secretsOf(row, now), row.message_id, timestamp, row.payload), row.payload)
        } catch (error) {
          result = { statusCode: null, error: error instanceof Error ? error.message.slice(0, 300) : 'error', latencyMs: 0 }
        }
        return { row, result }
      }),
    )
    const now = clock.now()
    const outcomes = sent.map(({ row, result }) => {
      const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300
      const giveUpAt = new Date(row.give_up_at)
      const giveUp = !ok && now >= giveUpAt
      const nextAt = ok || giveUp ? null : new Date(Math.min(now.getTime() + backoffMs(row.attempts, random), giveUpAt.getTime()))
      let lag: number | null = null
      if (ok) {
        const occurred = Date.parse((JSON.parse(row.payload) as { timestamp?: string }).timestamp ?? '')
        lag = Number.isNaN(occurred) ? null : Math.max(0, (now.getTime() - occurred) / 1000)
      }
      observer?.attempt(ok ? 'succeeded' : giveUp ? 'failed' : 'retrying', result.latencyMs / 1000, lag)
      return {
        endpoint: row.endpoint_id,
        ok,
        record: {
          id: row.id,
          token: row.lease_token,
          ok,
          give_up: giveUp,
          code: result.statusCode,
          error: result.error,
          latency: result.latencyMs,
          next_at: nextAt?.toISOString() ?? null,
        },
      }
    })
    await db.query(COMPLETE_SQL, [JSON.stringify(outcomes.map((outcome) => outcome.record)), now.toISOString()])
    await endpointHealth(outcomes, now)
    return { succeeded: outcomes.filter((outcome) => outcome.ok).length, failed: outcomes.filter((outcome) => outcome.record.give_up).length }
  }

  /** A success ends an endpoint's failing streak; failures start one, and a streak longer than WEBHOOK_DISABLE_AFTER_HOURS disables it. */
  async function endpointHealth(outcomes: { endpoint: string; ok: boolean }[], now: Date): Promise<void> {
    const healthy = [...new Set(outcomes.filter((outcome) => outcome.ok).map((outcome) => outcome.endpoint))]
    const failing = [...new Set(outcomes.filter((outcome) => !outcome.ok).map((outcome) => outcome.endpoint))].filter((id) => !healthy.includes(id))
    if (healthy.length > 0) await db.query(`UPDATE webhook_endpoint SET failing_since = NULL WHERE id = ANY($1::uuid[]) AND failing_since IS NOT NULL`, [healthy])
    if (failing.length === 0) return
    const hours = Math.round((disableAfterMs / 3_600_000) * 10) / 10
    const disabled = await db.query<{ id: string; url: string }>(
      `WITH u AS (
         UPDATE webhook_endpoint SET failing_since = COALESCE(failing_since, $2::timestamptz),
           disabled_at = CASE WHEN disabled_at IS NULL AND COALESCE(failing_since, $2::timestamptz) <= $3::timestamptz THEN $2::timestamptz ELSE disabled_at END,
           disabled_reason = CASE WHEN disabled_at IS NULL AND COALESCE(failing_since, $2::timestamptz) <= $3::timestamptz THEN $4 ELSE disabled_reason END
         WHERE id = ANY($1::uuid[]) RETURNING id, url, disabled_at
       ) SELECT id, url FROM u WHERE disabled_at = $2::timestamptz`,
      [failing, now.toISOString(), new Date(now.getTime() - disableAfterMs).toISOString(), `Every delivery attempt failed for ${hours} hours.`],
    )
    for (const endpoint of disabled) {
      observer?.disabled()
      log.warn({ webhookId: endpoint.id }, `webhook disabled: every delivery attempt failed for ${hours} hours; PATCH it with active: true to resume`)
    }
  }

  return {
    fanOut,
    claim,
    deliver,
    /** Fans out, then claims and sends until nothing is due now (by the clock). */
    async runOnce(): Promise<RunReport> {
      const report: RunReport = { queued: await fanOut(), attempts: 0, succeeded: 0, failed: 0 }
      for (;;) {
        const claimed = await claim()
        if (claimed.length === 0) break
        const outcome = await deliver(claimed)
        report.attempts += claimed.length
        report.succeeded += outcome.succeeded
        report.failed += outcome.failed
        if (claimed.length < batchSize) report.queued += await fanOut()
      }
      return report
    },
    /** Deletes finished deliveries (succeeded or failed) completed before `cutoff`; returns how many. */
    async prune(cutoff: Date): Promise<number> {
      const [row] = await db.query<{ n: number }>(
        `WITH gone AS (DELETE FROM webhook_delivery WHERE status <> 'pending' AND completed_at < $1::timestamptz RETURNING 1) SELECT count(*)::int AS n FROM gone`,
        [cutoff.toISOString()],
      )
      return row?.n ?? 0
    },
    /** Pending deliveries (all endpoints): the queue depth. */
    async depth(): Promise<number> {
      const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_delivery WHERE status = 'pending'`)
      return row?.n ?? 0
    },
  }
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>
