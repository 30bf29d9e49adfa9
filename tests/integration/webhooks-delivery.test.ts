import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { verifyWebhook } from '../../examples/webhook-receiver.js'
import type { App } from '../../src/app.js'
import { DeliveryListSchema, WebhookSchema } from '../../src/modules/sync/sync-schemas.js'
import { bearer, clientToken } from '../helpers/auth.js'
import { startReceiver, testClock, type TestReceiver, webhookApp } from '../helpers/webhooks.js'

/**
 * Delivery: signed, in order per therapist, retried with backoff until the receiver answers, shared by
 * instances without double sends, taken over after a lease, and stopped for an endpoint that keeps failing.
 * Time is an injected clock: a day of retries takes no wall-clock time.
 */

const HOUR = 3_600_000

describe('webhook delivery', () => {
  const clock = testClock()
  let app: App
  let curator: { authorization: string }
  let hooks: { authorization: string }
  const cleanups: (() => Promise<unknown>)[] = []

  beforeAll(async () => {
    app = await webhookApp(clock)
    curator = bearer(await clientToken(app, ['directory:read', 'directory:write']))
    hooks = bearer(await clientToken(app, ['webhooks:write']))
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  afterAll(async () => {
    await app.close()
  })

  /** A receiver and an endpoint on it; both go away after the test. */
  async function subscribe(overrides: Record<string, unknown> = {}): Promise<{ receiver: TestReceiver; id: string; secret: string }> {
    const receiver = await startReceiver()
    const res = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: hooks, payload: { url: receiver.url, ...overrides } })
    expect(res.statusCode, res.body).toBe(201)
    const { id, secret } = res.json<{ id: string; secret: string }>()
    cleanups.push(() => receiver.close(), () => app.inject({ method: 'DELETE', url: `/v1/webhooks/${id}`, headers: hooks }))
    return { receiver, id, secret }
  }

  async function createTherapist(name: string): Promise<string> {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/therapists',
      headers: curator,
      payload: { name, license: { type: 'lcsw', state: 'CA' }, formats: ['telehealth'], acceptingNewClients: true },
    })
    expect(res.statusCode, res.body).toBe(201)
    return res.json<{ id: string }>().id
  }
  const patch = async (id: string, payload: Record<string, unknown>) => expect((await app.inject({ method: 'PATCH', url: `/v1/therapists/${id}`, headers: curator, payload })).statusCode).toBe(200)

  async function deliveries(id: string) {
    const res = await app.inject({ method: 'GET', url: `/v1/webhooks/${id}/deliveries?limit=100`, headers: hooks })
    expect(res.statusCode, res.body).toBe(200)
    return DeliveryListSchema.parse(res.json()).data
  }

  it('delivers each change once, signed, in order, with the feed’s event ids', async () => {
    const { receiver, id, secret } = await subscribe()
    const therapist = await createTherapist('Hook One')
    await patch(therapist, { acceptingNewClients: false })
    expect((await app.inject({ method: 'DELETE', url: `/v1/therapists/${therapist}`, headers: curator })).statusCode).toBe(204)

    const report = await app.webhooks.deliver()
    expect(report.succeeded).toBeGreaterThanOrEqual(3)
    const mine = receiver.received.filter((message) => message.json.data.therapistId === therapist)
    expect(mine.map((message) => message.json.type)).toEqual(['therapist.created', 'therapist.updated', 'therapist.deleted'])
    expect(mine[1]?.json.data.changedFields).toEqual(['acceptingNewClients', 'acceptingNewClientsVerifiedAt'])
    for (const message of mine) {
      const nowSeconds = Math.floor(clock.now().getTime() / 1000)
      expect(verifyWebhook(secret, message.headers, message.body, { nowSeconds })).toEqual(message.json)
      expect(message.headers['webhook-id']).toBe(message.json.data.id)
      expect(message.headers['content-type']).toBe('application/json')
    }
    // The same event ids as the pull feed.
    const feed = await app.inject({ method: 'GET', url: `/v1/therapists/changes?after=${BigInt(mine[0]!.json.data.position!) - 1n}&limit=1000`, headers: curator })
    const feedIds = feed.json<{ data: { id: string; therapistId: string }[] }>().data.filter((event) => event.therapistId === therapist).map((event) => event.id)
    expect(feedIds).toEqual(mine.map((message) => message.json.data.id))

    const listed = await deliveries(id)
    expect(listed.filter((delivery) => delivery.therapistId === therapist).map((delivery) => [delivery.status, delivery.attempts, delivery.lastStatusCode])).toEqual([
      ['succeeded', 1, 200], ['succeeded', 1, 200], ['succeeded', 1, 200],
    ])
    // Nothing more to send.
    expect((await app.webhooks.deliver()).attempts).toBe(0)
  })

  it('sends only the subscribed event types, and a test message on request', async () => {
    const { receiver, id } = await subscribe({ eventTypes: ['therapist.deleted'] })
    const therapist = await createTherapist('Hook Filter')
    await app.inject({ method: 'DELETE', url: `/v1/therapists/${therapist}`, headers: curator })
    const test = await app.inject({ method: 'POST', url: `/v1/webhooks/${id}/test`, headers: hooks })
    expect(test.statusCode, test.body).toBe(202)
    await app.webhooks.deliver()
    expect(receiver.received.map((message) => message.json.type).sort()).toEqual(['therapist.deleted', 'webhook.test'])
  })

  it('retries a failing receiver with growing delays until it answers, keeping later changes of the therapist behind', async () => {
    const { receiver, id } = await subscribe()
    // Fails three times, then succeeds.
    receiver.answer = (n) => (n <= 3 ? 503 : 200)
    const therapist = await createTherapist('Hook Retry')
    await app.webhooks.deliver()
    expect(receiver.received).toHaveLength(1)
    // A second change while the first is failing: it waits for the first.
    await patch(therapist, { bio: 'Changed while failing.' })
    await app.webhooks.deliver()
    expect(receiver.received).toHaveLength(1)

    const waits: number[] = []
    for (let round = 0; round < 3; round += 1) {
      const [pending] = (await deliveries(id)).filter((delivery) => delivery.status === 'pending' && delivery.eventType === 'therapist.created')
      const wait = new Date(pending!.nextAttemptAt!).getTime() - clock.now().getTime()
      waits.push(wait)
      clock.advance(wait)
      await app.webhooks.deliver()
    }
    // 503, 503, 503, then 200 and the second change.
    expect(receiver.received.map((message) => [message.json.type, message.headers['webhook-id']])).toEqual([
      ...Array(4).fill(['therapist.created', receiver.received[0]!.headers['webhook-id']]),
      ['therapist.updated', receiver.received[4]!.headers['webhook-id']],
    ])
    // Exponential with jitter: each wait within [base·2^(n-1)/2, base·2^(n-1)].
    waits.forEach((wait, n) => {
      expect(wait).toBeGreaterThanOrEqual((5000 * 2 ** n) / 2)
      expect(wait).toBeLessThanOrEqual(5000 * 2 ** n)
    })
    const created = (await deliveries(id)).find((delivery) => delivery.eventType === 'therapist.created')
    expect(created).toMatchObject({ status: 'succeeded', attempts: 4, lastStatusCode: 200 })
  })

  it('gives up after 24 hours, and sends again on a manual retry', async () => {
    const { receiver, id } = await subscribe()
    receiver.answer = () => 500
    await createTherapist('Hook Give Up')
    await app.webhooks.deliver()
    for (let hour = 0; hour < 26; hour += 1) {
      clock.advance(HOUR)
      await app.webhooks.deliver()
    }
    const [failed] = await deliveries(id)
    expect(failed).toMatchObject({ status: 'failed', lastStatusCode: 500 })
    expect(failed!.attempts).toBeGreaterThan(5)
    const attempts = receiver.received.length

    receiver.answer = () => 204
    const retried = await app.inject({ method: 'POST', url: `/v1/webhooks/${id}/deliveries/${failed!.id}/retry`, headers: hooks })
    expect(retried.statusCode, retried.body).toBe(202)
    expect(retried.json()).toMatchObject({ status: 'pending' })
    await app.webhooks.deliver()
    expect(receiver.received).toHaveLength(attempts + 1)
    expect((await deliveries(id))[0]).toMatchObject({ status: 'succeeded', lastStatusCode: 204 })
  })

  it('disables an endpoint that failed for WEBHOOK_DISABLE_AFTER_HOURS, and resumes when re-enabled', async () => {
    const strict = await webhookApp(clock, { WEBHOOK_DISABLE_AFTER_HOURS: '2' })
    cleanups.push(() => strict.close())
    const { receiver, id } = await subscribe()
    receiver.answer = () => 500
    const therapist = await createTherapist('Hook Disabled')
    await strict.webhooks.deliver()
    clock.advance(HOUR)
    await strict.webhooks.deliver()
    clock.advance(HOUR + 1000)
    await strict.webhooks.deliver()
    const hook = WebhookSchema.parse((await app.inject({ method: 'GET', url: `/v1/webhooks/${id}`, headers: hooks })).json())
    expect(hook).toMatchObject({ active: false, disabledReason: expect.stringContaining('failed') })
    expect(hook.disabledAt).not.toBeNull()

    // Disabled: nothing is sent, whatever happens.
    const sent = receiver.received.length
    await patch(therapist, { bio: 'While disabled.' })
    clock.advance(HOUR)
    await strict.webhooks.deliver()
    expect(receiver.received).toHaveLength(sent)
    expect((await app.inject({ method: 'POST', url: `/v1/webhooks/${id}/test`, headers: hooks })).statusCode).toBe(409)

    // Re-enabled: the backlog goes out, in order.
    receiver.answer = () => 200
    const enabled = await app.inject({ method: 'PATCH', url: `/v1/webhooks/${id}`, headers: hooks, payload: { active: true } })
    expect(enabled.json()).toMatchObject({ active: true, disabledAt: null, failingSince: null })
    clock.advance(HOUR)
    await strict.webhooks.deliver()
    const after = receiver.received.slice(sent).map((message) => message.json.type)
    expect(after).toEqual(['therapist.created', 'therapist.updated'])
  })

  it('shares the work between two instances without sending anything twice', async () => {
    const { receiver } = await subscribe()
    const second = await webhookApp(clock)
    cleanups.push(() => second.close())
    const therapists: string[] = []
    for (let n = 0; n < 12; n += 1) therapists.push(await createTherapist(`Hook Pair ${n}`))
    for (const therapist of therapists.slice(0, 6)) await patch(therapist, { feeMin: 80 })
    await Promise.all([app.webhooks.deliver(), second.webhooks.deliver(), app.webhooks.deliver(), second.webhooks.deliver()])
    await app.webhooks.deliver()
    const ids = receiver.received.map((message) => message.headers['webhook-id'])
    expect(ids).toHaveLength(18)
    expect(new Set(ids).size).toBe(18)
    // In order per therapist.
    for (const therapist of therapists.slice(0, 6)) {
      expect(receiver.received.filter((message) => message.json.data.therapistId === therapist).map((message) => message.json.type)).toEqual(['therapist.created', 'therapist.updated'])
    }
  })

  it('takes over a crashed instance’s claims after the lease', async () => {
    const { receiver, id } = await subscribe()
    await createTherapist('Hook Lease')
    // An instance claims and dies before sending.
    await app.webhooks.worker.fanOut()
    expect(await app.webhooks.worker.claim()).not.toHaveLength(0)
    await app.webhooks.deliver()
    expect(receiver.received).toHaveLength(0)
    // After the lease (60 s), another instance sends it.
    clock.advance(61_000)
    const second = await webhookApp(clock)
    cleanups.push(() => second.close())
    await second.webhooks.deliver()
    expect(receiver.received).toHaveLength(1)
    expect((await deliveries(id))[0]).toMatchObject({ status: 'succeeded', attempts: 2 })
  })

  it('signs with both secrets while a rotation overlaps, then with the new one only', async () => {
    const { receiver, id, secret } = await subscribe()
    const rotated = await app.inject({ method: 'POST', url: `/v1/webhooks/${id}/rotate-secret`, headers: hooks, payload: { overlapSeconds: 600 } })
    const fresh = rotated.json<{ secret: string }>().secret
    await app.inject({ method: 'POST', url: `/v1/webhooks/${id}/test`, headers: hooks })
    await app.webhooks.deliver()
    clock.advance(601_000)
    await app.inject({ method: 'POST', url: `/v1/webhooks/${id}/test`, headers: hooks })
    await app.webhooks.deliver()
    const [during, later] = receiver.received
    const nowSeconds = (message: typeof during) => Number(message!.headers['webhook-timestamp'])
    expect(String(during!.headers['webhook-signature']).split(' ')).toHaveLength(2)
    expect(() => verifyWebhook(secret, during!.headers, during!.body, { nowSeconds: nowSeconds(during) })).not.toThrow()
    expect(() => verifyWebhook(fresh, during!.headers, during!.body, { nowSeconds: nowSeconds(during) })).not.toThrow()
    expect(String(later!.headers['webhook-signature']).split(' ')).toHaveLength(1)
    expect(() => verifyWebhook(fresh, later!.headers, later!.body, { nowSeconds: nowSeconds(later) })).not.toThrow()
    expect(() => verifyWebhook(secret, later!.headers, later!.body, { nowSeconds: nowSeconds(later) })).toThrow()
  })

  it('does not follow redirects', async () => {
    const { receiver, id } = await subscribe()
    receiver.answer = () => 302
    await app.inject({ method: 'POST', url: `/v1/webhooks/${id}/test`, headers: hooks })
    await app.webhooks.deliver()
    expect(receiver.received).toHaveLength(1)
    expect((await deliveries(id))[0]).toMatchObject({ status: 'pending', lastStatusCode: 302, lastError: expect.stringContaining('redirect') })
  })
})
