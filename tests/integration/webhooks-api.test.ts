import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyWebhook } from '../../examples/webhook-receiver.js'
import type { App } from '../../src/app.js'
import { sign } from '../../src/modules/sync/webhook-crypto.js'
import { isPublicAddress } from '../../src/modules/sync/webhook-url.js'
import { WebhookSchema, WebhookWithSecretSchema } from '../../src/modules/sync/sync-schemas.js'
import { bearer, clientToken, registerUser } from '../helpers/auth.js'
import { buildTestApp } from '../helpers/app.js'

/** Managing webhook endpoints: scopes, ownership, secrets, and which URLs are refused. */
describe('webhook endpoints', () => {
  let app: App
  let owner: { authorization: string }
  let other: { authorization: string }

  beforeAll(async () => {
    // The production rules: https and public addresses only.
    app = await buildTestApp({ WEBHOOK_DELIVERY_INTERVAL_MS: '0' })
    owner = bearer(await clientToken(app, ['webhooks:write']))
    other = bearer(await clientToken(app, ['webhooks:write']))
  })
  afterAll(async () => {
    await app.close()
  })

  const create = (headers: Record<string, string>, payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/v1/webhooks', headers, payload })

  it('needs an app token with webhooks:write', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/webhooks' })).statusCode).toBe(401)
    const reader = bearer(await clientToken(app, ['directory:read', 'directory:write']))
    const user = await registerUser(app)
    for (const headers of [reader, user.headers]) {
      const res = await create(headers, { url: 'https://8.8.8.8/hook' })
      expect(res.statusCode).toBe(403)
      expect(res.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'webhooks:write' })
      expect((await app.inject({ method: 'GET', url: '/v1/webhooks', headers })).statusCode).toBe(403)
    }
  })

  it('creates, shows the secret once, lists, changes and deletes; other apps see nothing', async () => {
    const res = await create(owner, { url: 'https://8.8.8.8/hook', description: 'mirror', eventTypes: ['therapist.updated'] })
    expect(res.statusCode, res.body).toBe(201)
    const created = WebhookWithSecretSchema.parse(res.json())
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(created).toMatchObject({ url: 'https://8.8.8.8/hook', description: 'mirror', eventTypes: ['therapist.updated'], active: true, disabledAt: null })
    expect(res.headers.location).toBe(`/v1/webhooks/${created.id}`)

    // Sealed at rest: the stored bytes do not hold the secret.
    const [row] = await app.db.query<{ sealed: Uint8Array }>(`SELECT secret_sealed AS sealed FROM webhook_endpoint WHERE id = $1::uuid`, [created.id])
    expect(Buffer.from(row!.sealed).toString('latin1')).not.toContain(created.secret.slice(6, 30))

    const got = await app.inject({ method: 'GET', url: `/v1/webhooks/${created.id}`, headers: owner })
    expect(got.statusCode).toBe(200)
    expect(got.json()).not.toHaveProperty('secret')
    WebhookSchema.parse(got.json())
    const list = await app.inject({ method: 'GET', url: '/v1/webhooks', headers: owner })
    expect(list.json<{ data: { id: string }[] }>().data.map((hook) => hook.id)).toContain(created.id)

    // Another app: 404 for this one, an empty list, no changes.
    expect((await app.inject({ method: 'GET', url: `/v1/webhooks/${created.id}`, headers: other })).statusCode).toBe(404)
    expect(
      (await app.inject({ method: 'GET', url: '/v1/webhooks', headers: other })).json<{ data: { id: string }[] }>().data.map((hook) => hook.id),
    ).not.toContain(created.id)
    expect((await app.inject({ method: 'PATCH', url: `/v1/webhooks/${created.id}`, headers: other, payload: { active: false } })).statusCode).toBe(404)
    expect((await app.inject({ method: 'DELETE', url: `/v1/webhooks/${created.id}`, headers: other })).statusCode).toBe(404)

    const patched = await app.inject({ method: 'PATCH', url: `/v1/webhooks/${created.id}`, headers: owner, payload: { active: false, eventTypes: ['therapist.created', 'therapist.deleted'] } })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(patched.json()).toMatchObject({ active: false, eventTypes: ['therapist.created', 'therapist.deleted'] })

    const rotated = await app.inject({ method: 'POST', url: `/v1/webhooks/${created.id}/rotate-secret`, headers: owner, payload: { overlapSeconds: 3600 } })
    expect(rotated.statusCode, rotated.body).toBe(200)
    const withNew = WebhookWithSecretSchema.parse(rotated.json())
    expect(withNew.secret).not.toBe(created.secret)
    expect(withNew.secretRotatedUntil).not.toBeNull()

    expect((await app.inject({ method: 'DELETE', url: `/v1/webhooks/${created.id}`, headers: owner })).statusCode).toBe(204)
    expect((await app.inject({ method: 'GET', url: `/v1/webhooks/${created.id}`, headers: owner })).statusCode).toBe(404)
  })

  it('refuses URLs that are not https, carry credentials, or reach private addresses', async () => {
    const refused = async (url: string, code: string) => {
      const res = await create(owner, { url })
      expect(res.statusCode, `${url}: ${res.body}`).toBe(400)
      expect(res.json(), url).toMatchObject({ code, errors: [{ field: 'url', code }] })
    }
    await refused('http://8.8.8.8/hook', 'webhook_url_not_https')
    await refused('ftp://8.8.8.8/hook', 'webhook_url_not_https')
    await refused('https://user:pass@8.8.8.8/hook', 'webhook_url_credentials')
    for (const url of [
      'https://127.0.0.1/hook', 'https://localhost/hook', 'https://10.0.0.8/hook', 'https://172.20.1.1/', 'https://192.168.1.1/',
      'https://169.254.169.254/latest/meta-data', 'https://100.64.0.1/', 'https://0.0.0.0/', 'https://[::1]/hook', 'https://[fd00::1]/',
      'https://[fe80::1]/', 'https://[::ffff:127.0.0.1]/', 'https://2130706433/',
    ]) {
      await refused(url, 'webhook_url_not_public')
    }
    await refused('https://no-such-host.invalid/hook', 'webhook_url_unresolvable')
    expect((await create(owner, { url: 'not a url' })).statusCode).toBe(400)

    // A change of URL is checked the same way.
    const ok = await create(owner, { url: 'https://8.8.4.4/hook' })
    expect(ok.statusCode).toBe(201)
    const id = ok.json<{ id: string }>().id
    const moved = await app.inject({ method: 'PATCH', url: `/v1/webhooks/${id}`, headers: owner, payload: { url: 'https://10.1.1.1/hook' } })
    expect(moved.statusCode).toBe(400)
    expect(moved.json()).toMatchObject({ code: 'webhook_url_not_public' })
    await app.inject({ method: 'DELETE', url: `/v1/webhooks/${id}`, headers: owner })
  })

  it('judges addresses as public or not, IPv4-mapped IPv6 included', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) expect(isPublicAddress(address), address).toBe(true)
    for (const address of ['127.0.0.1', '10.1.2.3', '::1', '::ffff:10.0.0.1', '::ffff:7f00:1', 'fc00::1', '224.0.0.1', '255.255.255.255', 'nonsense']) {
      expect(isPublicAddress(address), address).toBe(false)
    }
  })
})

describe('Standard Webhooks signatures', () => {
  // The specification's published test vector.
  const vector = {
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestamp: 1614265330,
    body: '{"test": 2432232314}',
    signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  }

  it('signs the test vector exactly', () => {
    expect(sign(vector.secret, vector.id, vector.timestamp, vector.body)).toBe(vector.signature)
    // The prefix is optional, as in the reference libraries.
    expect(sign(vector.secret.slice('whsec_'.length), vector.id, vector.timestamp, vector.body)).toBe(vector.signature)
  })

  it('the example receiver verifies the vector, and refuses a changed body, a wrong secret and a stale timestamp', () => {
    const headers = { 'webhook-id': vector.id, 'webhook-timestamp': String(vector.timestamp), 'webhook-signature': `v1,bm9wZQ== ${vector.signature}` }
    expect(verifyWebhook(vector.secret, headers, vector.body, { nowSeconds: vector.timestamp + 10 })).toEqual({ test: 2432232314 })
    expect(() => verifyWebhook(vector.secret, headers, '{"test": 2432232315}', { nowSeconds: vector.timestamp })).toThrow('no matching signature')
    expect(() => verifyWebhook('whsec_bm90IHRoZSBzZWNyZXQgYXQgYWxsIQ==', headers, vector.body, { nowSeconds: vector.timestamp })).toThrow('no matching signature')
    expect(() => verifyWebhook(vector.secret, headers, vector.body, { nowSeconds: vector.timestamp + 301 })).toThrow('tolerance')
  })
})
