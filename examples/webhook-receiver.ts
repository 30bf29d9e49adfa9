/**
 * A webhook receiver for Therapath's directory events: verifies each message the Standard Webhooks way
 * (https://www.standardwebhooks.com/) and keeps a local copy of the directory current.
 *
 *   WEBHOOK_SECRET=whsec_… THERAPATH_URL=https://api.example.com THERAPATH_TOKEN=<app token with directory:read> \
 *     PORT=8787 npx tsx examples/webhook-receiver.ts
 *
 * What it shows:
 * - verification on the raw body (never on re-serialized JSON), against every signature in the header
 *   (two while a secret rotation overlaps), in constant time, with a 5-minute replay window;
 * - de-duplication by `webhook-id` (delivery is at least once);
 * - applying a change: fetch the profile for created/updated (events carry ids and changed fields, not
 *   profiles), drop it for deleted; answering 2xx only once applied, so a failure is retried.
 *
 * Only node:http and node:crypto: copy it into any Node service. A real one keeps the copy and the seen
 * ids in its database, and the first sync (GET /v1/therapists/changes?after=now, then paging
 * GET /v1/therapists) is in docs/directory-sync.md.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { pathToFileURL } from 'node:url'

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError'
}

export interface VerifiedEvent {
  type: string
  timestamp: string
  data: { therapistId?: string; changedFields?: string[] | null; [member: string]: unknown }
}

const header = (headers: IncomingHttpHeaders | Record<string, string>, name: string): string => {
  const value = headers[name]
  if (typeof value !== 'string' || value === '') throw new WebhookVerificationError(`missing ${name} header`)
  return value
}

/**
 * Verifies one message and returns its parsed body.
 * @param secret - the endpoint's `whsec_…` secret (the prefix is optional)
 * @param rawBody - the request body exactly as received
 * @throws WebhookVerificationError when a header is missing, the timestamp is outside the window, or no signature matches
 */
export function verifyWebhook(
  secret: string,
  headers: IncomingHttpHeaders | Record<string, string>,
  rawBody: string,
  { nowSeconds = Math.floor(Date.now() / 1000), toleranceSeconds = 300 } = {},
): VerifiedEvent {
  const id = header(headers, 'webhook-id')
  const timestamp = header(headers, 'webhook-timestamp')
  const signatures = header(headers, 'webhook-signature')
  const sentAt = Number(timestamp)
  if (!/^\d+$/.test(timestamp) || Math.abs(nowSeconds - sentAt) > toleranceSeconds) {
    throw new WebhookVerificationError('timestamp outside the tolerance window (replayed or clock skew)')
  }
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64')
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`).digest()
  const matches = signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2)
    if (version !== 'v1' || !signature) return false
    const given = Buffer.from(signature, 'base64')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
  if (!matches) throw new WebhookVerificationError('no matching signature')
  return JSON.parse(rawBody) as VerifiedEvent
}

/** The local copy: therapist id → profile. */
const therapists = new Map<string, unknown>()
/** Message ids already applied (keep them as long as the sender retries: a day and more). */
const seen = new Set<string>()

async function apply(event: VerifiedEvent, api: { url: string; token: string }): Promise<void> {
  const id = event.data.therapistId
  if (event.type === 'webhook.test' || !id) return
  if (event.type === 'therapist.deleted') {
    therapists.delete(id)
    return
  }
  const response = await fetch(`${api.url}/v1/therapists/${id}`, { headers: { authorization: `Bearer ${api.token}` } })
  if (response.status === 404) {
    // Removed since: a later therapist.deleted event follows.
    therapists.delete(id)
    return
  }
  if (!response.ok) throw new Error(`profile ${id}: HTTP ${response.status}`)
  therapists.set(id, await response.json())
}

function main(): void {
  const secret = process.env.WEBHOOK_SECRET ?? ''
  const api = { url: process.env.THERAPATH_URL ?? 'http://localhost:3000', token: process.env.THERAPATH_TOKEN ?? '' }
  if (!secret.startsWith('whsec_')) throw new Error('set WEBHOOK_SECRET to the secret shown when the webhook was created')
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let event: VerifiedEvent
      try {
        event = verifyWebhook(secret, request.headers, body)
      } catch (error) {
        response.writeHead(401).end(error instanceof Error ? error.message : 'invalid')
        return
      }
      const messageId = String(request.headers['webhook-id'])
      if (seen.has(messageId)) {
        response.writeHead(204).end()
        return
      }
      apply(event, api).then(
        () => {
          seen.add(messageId)
          console.log(`${event.type} ${event.data.therapistId ?? ''} (${therapists.size} therapists in the local copy)`)
          response.writeHead(204).end()
        },
        (error: unknown) => {
          console.error(error)
          response.writeHead(503).end()
        },
      )
    })
  })
  const port = Number(process.env.PORT ?? 8787)
  server.listen(port, () => console.log(`listening on :${port}`))
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main()
