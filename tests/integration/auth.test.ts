import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { App } from '../../src/app.js'
import { buildApp } from '../../src/app.js'
import { Prisma } from '../../src/generated/prisma/client.js'
import { currentUserId } from '../../src/lib/principal.js'
import { createIdentityService } from '../../src/modules/auth/identity-service.js'
import { sha256Hex } from '../../src/lib/hash.js'
import { createAuthService, type PasswordHasher, REUSE_GRACE_MS } from '../../src/modules/auth/auth-service.js'
import { decoyPasswordHash, hashPassword, verifyPassword } from '../../src/modules/auth/passwords.js'
import { loadSigningKeys } from '../../src/modules/auth/keys.js'
import { createTokenService } from '../../src/modules/auth/tokens.js'
import { PASSWORD, bearer, clientToken, createClient, registerUser, uniqueEmail } from '../helpers/auth.js'
import { ownedRowCount } from '../helpers/account.js'
import { sharedDatabase, TEST_SIGNING_KEY, testConfig } from '../helpers/database.js'

/** Probe routes on the real app, to exercise the guard with scopes no feature route needs yet. */
function addProbeRoutes(app: App) {
  app.get('/probe/journal', { config: { auth: { scope: 'journal:read' } } }, async (request) => ({ userId: currentUserId(request) }))
  app.get('/probe/directory', { config: { auth: { scope: 'directory:read', principal: 'any' } } }, async (request) => ({ kind: request.principal?.kind }))
  app.post('/probe/curate', { config: { auth: { scope: 'directory:write', principal: 'any' } } }, async () => ({ ok: true }))
}

const config = testConfig()
const ISSUER = config.PUBLIC_URL
const AUDIENCE = config.AUTH_AUDIENCE

async function ownKey() {
  const jwk = JSON.parse(TEST_SIGNING_KEY) as JWK
  return { key: await importJWK(jwk, 'EdDSA'), kid: jwk.kid ?? '' }
}

/** Signs a token with our test key, with any claims and header a test needs. */
async function signOwn(claims: Record<string, unknown>, options: { exp?: string | number; nbf?: string | number; iss?: string; aud?: string; typ?: string } = {}) {
  const { key, kid } = await ownKey()
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: options.typ ?? 'at+jwt' })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '5m')
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf)
  return jwt.sign(key)
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** The caches' clock, moved by tests instead of waiting: cacheClock.advance(60_000) is a minute later. */
const cacheClock = (() => {
  let offset = 0
  return { now: () => performance.now() + offset, advance: (ms: number) => void (offset += ms) }
})()

describe('auth', () => {
  let app: App
  beforeAll(async () => {
    app = await buildApp(config, { db: await sharedDatabase(), cacheClock })
    addProbeRoutes(app)
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
  })

  describe('register and login', () => {
    it('registers, normalising the email, and the access token works at once', async () => {
      const local = `Mixed.Case-${randomUUID()}`
      const res = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: `  ${local}@Example.COM `, password: PASSWORD, displayName: 'Sam' } })
      expect(res.statusCode).toBe(201)
      const body = res.json()
      expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { email: `${local.toLowerCase()}@example.com`, displayName: 'Sam' } })
      expect(body.refreshToken).toMatch(/^tpr_/)
      expect(body.scope.split(' ').sort()).toEqual(['assessments:read', 'assessments:write', 'directory:read', 'journal:read', 'journal:write'])
      expect(JSON.stringify(body)).not.toMatch(/password|argon/i)

      const me = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(body.accessToken) })
      expect(me.statusCode).toBe(200)
      expect(me.json()).toMatchObject({ id: body.user.id, signIn: 'password', identityProviders: [] })
      expect(me.headers['cache-control']).toBe('no-store')
    })

    it('refuses a second account for the same mailbox, however it is typed', async () => {
      const email = uniqueEmail()
      await registerUser(app, email)
      const res = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: email.toUpperCase(), password: PASSWORD } })
      expect(res.statusCode).toBe(409)
      expect(res.json()).toMatchObject({ code: 'email_taken' })
    })

    it.each([
      ['short1234', 'too_short'],
      ['password1234', 'too_common'],
      ['qwertyuiop', 'too_common'],
      ['aaaaaaaaaaaa', 'too_guessable'],
    ])('refuses the password %j (%s) and creates nothing', async (password, code) => {
      const email = uniqueEmail()
      const res = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password } })
      expect(res.statusCode).toBe(400)
      expect(res.headers['content-type']).toMatch(/problem\+json/)
      expect(res.json().errors).toEqual([expect.objectContaining({ in: 'body', field: 'password', code })])
      expect(await app.db.prisma.user.findUnique({ where: { email } })).toBeNull()
    })

    it('refuses a password built from the email, and accepts long passphrases with no composition rules', async () => {
      const email = `kimberly-${randomUUID().slice(0, 8)}@example.com`
      const fromEmail = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: `${email.split('@')[0]}!!` } })
      expect(fromEmail.json().errors[0].code).toBe('too_guessable')
      const plain = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: 'all lowercase words here' } })
      expect(plain.statusCode).toBe(201)
      const unicode = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: uniqueEmail(), password: 'ünïcødé🙂pässwörd' } })
      expect(unicode.statusCode).toBe(201)
    })

    it('lists every invalid field', async () => {
      const res = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: 'not-an-email', displayName: '' } })
      expect(res.statusCode).toBe(400)
      expect(res.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['displayName', 'email', 'password'])
    })

    it('logs in; an unknown email and a wrong password get the same answer', async () => {
      const user = await registerUser(app)
      const ok = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: user.user.email?.toUpperCase(), password: PASSWORD } })
      expect(ok.statusCode).toBe(200)
      expect(ok.json().user.id).toBe(user.user.id)

      const login = (email: string) => app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'wrong password 123' } })
      const [wrong, unknown] = [await login(user.user.email ?? ''), await login(uniqueEmail('nobody'))]
      expect([wrong.statusCode, unknown.statusCode]).toEqual([401, 401])
      const strip = ({ requestId: _r, ...rest }: Record<string, unknown>) => rest
      expect(strip(unknown.json())).toEqual(strip(wrong.json()))
      expect(wrong.json()).toMatchObject({ code: 'invalid_credentials', status: 401 })
    })

    it('does the same work for an unknown email as for a wrong password: one Argon2id verification at the same cost', async () => {
      // Counted, not timed: a loaded machine cannot make this flaky.
      const verified: string[] = []
      const passwords: PasswordHasher = {
        hash: hashPassword,
        decoy: decoyPasswordHash,
        verify: async (passwordHash, password) => {
          verified.push(passwordHash)
          return verifyPassword(passwordHash, password)
        },
      }
      const auth = createAuthService({ prisma: app.db.prisma, tokens: createTokenService({ keys: await loadSigningKeys(config), config }), config, passwords })
      const email = uniqueEmail()
      const actor = { principal: { kind: 'user' as const }, requestId: null }
      await auth.register({ email, password: PASSWORD }, actor)
      await expect(auth.login({ email, password: 'wrong password 123' }, actor)).rejects.toMatchObject({ code: 'invalid_credentials' })
      await expect(auth.login({ email: uniqueEmail('nobody'), password: 'wrong password 123' }, actor)).rejects.toMatchObject({ code: 'invalid_credentials' })
      expect(verified).toHaveLength(2)
      const [userHash, decoy] = verified as [string, string]
      expect(decoy).toBe(await decoyPasswordHash())
      // `$argon2id$v=19$m=…,t=…,p=…$salt$hash`: the same algorithm and cost parameters.
      const cost = (phc: string) => phc.split('$').slice(1, 4).join('$')
      expect(cost(decoy)).toBe(cost(userHash))
      expect(cost(userHash)).toMatch(/^argon2id\$v=19\$m=19456,t=2,p=1$/)
    })
  })

  describe('refresh tokens', () => {
    const refresh = (refreshToken: string) => app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } })
    /** Makes a spent refresh token look spent longer ago than the retry grace period, without waiting. */
    const spentLongAgo = (refreshToken: string) =>
      app.db.prisma.refreshToken.update({ where: { tokenHash: sha256Hex(refreshToken) }, data: { usedAt: new Date(Date.now() - REUSE_GRACE_MS - 1000) } })

    it('rotates on every use; reusing a spent token after the grace period ends the whole session', async () => {
      const user = await registerUser(app)
      const first = await refresh(user.refreshToken)
      expect(first.statusCode).toBe(200)
      const second = first.json()
      expect(second.refreshToken).not.toBe(user.refreshToken)
      expect((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(second.accessToken) })).statusCode).toBe(200)

      // The spent token is presented again, later than a client's own retry would be: it leaked, so the family is revoked.
      await spentLongAgo(user.refreshToken)
      const replay = await refresh(user.refreshToken)
      expect(replay.statusCode).toBe(401)
      expect(replay.json()).toMatchObject({ code: 'invalid_refresh_token' })
      const descendant = await refresh(second.refreshToken)
      expect(descendant.statusCode).toBe(401)
      for (const token of [user.accessToken, second.accessToken]) {
        expect((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode).toBe(401)
      }
      const session = await app.db.prisma.refreshToken.findUnique({ where: { tokenHash: sha256Hex(user.refreshToken) }, include: { session: true } })
      expect(session?.session.revokedReason).toBe('refresh_token_reuse')
    })

    it('answers a repeat within the grace period with refresh_token_spent and ends nothing', async () => {
      const user = await registerUser(app)
      const first = await refresh(user.refreshToken)
      expect(first.statusCode).toBe(200)
      const retry = await refresh(user.refreshToken)
      expect(retry.statusCode).toBe(401)
      expect(retry.json()).toMatchObject({ code: 'refresh_token_spent' })
      // The pair the first request received is alive.
      const pair = first.json<{ accessToken: string; refreshToken: string }>()
      expect((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(pair.accessToken) })).statusCode).toBe(200)
      expect((await refresh(pair.refreshToken)).statusCode).toBe(200)
      const session = await app.db.prisma.refreshToken.findUnique({ where: { tokenHash: sha256Hex(user.refreshToken) }, include: { session: true } })
      expect(session?.session.revokedAt).toBeNull()
    })

    it('lets exactly one of two concurrent refreshes with one token win, and its new tokens work', async () => {
      const user = await registerUser(app)
      const results = await Promise.all([1, 2].map(() => refresh(user.refreshToken)))
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401])
      const winner = results.find((r) => r.statusCode === 200)
      const loser = results.find((r) => r.statusCode === 401)
      expect(loser?.json()).toMatchObject({ code: 'refresh_token_spent' })
      const pair = winner?.json<{ accessToken: string; refreshToken: string }>()
      expect((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(pair?.accessToken ?? '') })).statusCode).toBe(200)
      const next = await refresh(pair?.refreshToken ?? '')
      expect(next.statusCode).toBe(200)
      expect((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(next.json().accessToken) })).statusCode).toBe(200)
    })

    it('issues no pair when the session ends while a refresh is in flight', async () => {
      const user = await registerUser(app)
      const prisma = app.db.prisma
      const tokenHash = sha256Hex(user.refreshToken)
      // The session is logged out just after the refresh has read it as active.
      const refreshTokens = {
        updateMany: (args: Parameters<typeof prisma.refreshToken.updateMany>[0]) => prisma.refreshToken.updateMany(args),
        create: (args: Parameters<typeof prisma.refreshToken.create>[0]) => prisma.refreshToken.create(args),
        findUnique: async (args: Parameters<typeof prisma.refreshToken.findUnique>[0]) => {
          const row = await prisma.refreshToken.findUnique(args)
          if (row) await prisma.authSession.update({ where: { id: row.sessionId }, data: { revokedAt: new Date(), revokedReason: 'logout' } })
          return row
        },
      }
      const auth = createAuthService({
        prisma: { user: prisma.user, authSession: prisma.authSession, refreshToken: refreshTokens, $transaction: prisma.$transaction.bind(prisma) } as unknown as Parameters<
          typeof createAuthService
        >[0]['prisma'],
        tokens: createTokenService({ keys: await loadSigningKeys(config), config }),
        config,
      })
      await expect(auth.refresh(user.refreshToken)).rejects.toMatchObject({ status: 401, code: 'invalid_refresh_token' })
      const spent = await prisma.refreshToken.findUniqueOrThrow({ where: { tokenHash } })
      expect(spent.usedAt).not.toBeNull()
    })

    it('stores refresh tokens only as hashes', async () => {
      const user = await registerUser(app)
      expect(await app.db.prisma.refreshToken.findUnique({ where: { tokenHash: user.refreshToken } })).toBeNull()
      expect(await app.db.prisma.refreshToken.findUnique({ where: { tokenHash: sha256Hex(user.refreshToken) } })).not.toBeNull()
    })

    it('refuses unknown and expired refresh tokens', async () => {
      expect((await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: 'tpr_made_up' } })).statusCode).toBe(401)
      const user = await registerUser(app)
      await app.db.prisma.refreshToken.update({ where: { tokenHash: sha256Hex(user.refreshToken) }, data: { expiresAt: new Date(Date.now() - 1000) } })
      const res = await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: user.refreshToken } })
      expect(res.statusCode).toBe(401)
      expect(res.json().detail).toMatch(/expired/)
    })

    it('logout ends the session: its refresh token and access tokens stop working', async () => {
      const user = await registerUser(app)
      const other = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: user.user.email, password: PASSWORD } })
      const res = await app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refreshToken: user.refreshToken } })
      expect(res.statusCode).toBe(204)
      expect(res.body).toBe('')
      expect((await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: user.refreshToken } })).statusCode).toBe(401)
      expect((await app.inject({ method: 'GET', url: '/v1/me', headers: user.headers })).statusCode).toBe(401)
      // Another sign-in of the same user is a different session and keeps working.
      expect((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(other.json().accessToken) })).statusCode).toBe(200)
      // Logging out twice, or with an unknown token, is not an error.
      expect((await app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refreshToken: user.refreshToken } })).statusCode).toBe(204)
      expect((await app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refreshToken: 'tpr_unknown' } })).statusCode).toBe(204)
    })
  })

  describe('access token verification', () => {
    let user: Awaited<ReturnType<typeof registerUser>>
    let sid: string
    beforeAll(async () => {
      user = await registerUser(app)
      sid = JSON.parse(Buffer.from(user.accessToken.split('.')[1] ?? '', 'base64url').toString()).sid as string
    })
    const call = (token: string) => app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })

    it('accepts a token it signed, with a valid session', async () => {
      expect((await call(await signOwn({ sub: user.user.id, sid, scope: 'journal:read' }))).statusCode).toBe(200)
    })

    it.each([
      ['expired', { exp: Math.floor(Date.now() / 1000) - 60 }, /expired/],
      ['not yet valid', { nbf: Math.floor(Date.now() / 1000) + 600 }, /"nbf" claim/],
      ['from another issuer', { iss: 'https://elsewhere.example' }, /issuer/],
      ['for another audience', { aud: 'someone-else' }, /"aud" claim/],
      ['of another type', { typ: 'JWT' }, /"typ"/],
    ])('refuses a token %s', async (_label, options, detail) => {
      const token = await signOwn({ sub: user.user.id, sid, scope: 'journal:read' }, options)
      const res = await call(token)
      expect(res.statusCode).toBe(401)
      expect(res.headers['content-type']).toMatch(/problem\+json/)
      expect(res.headers['www-authenticate']).toBe('Bearer')
      expect(res.json()).toMatchObject({ code: 'invalid_token' })
      expect(res.json().detail).toMatch(detail)
    })

    it('refuses alg none, HMAC with the public key, a foreign key with our kid, and a tampered payload', async () => {
      const header = (alg: string) => b64({ alg, kid: 'test-key-1', typ: 'at+jwt' })
      const now = Math.floor(Date.now() / 1000)
      const payload = b64({ iss: ISSUER, aud: AUDIENCE, sub: user.user.id, sid, scope: 'journal:read', iat: now, exp: now + 300 })
      expect((await call(`${header('none')}.${payload}.`)).statusCode).toBe(401)

      const publicJwk = JSON.parse(TEST_SIGNING_KEY) as JWK
      const hmac = await new SignJWT({ sub: user.user.id, sid, scope: 'journal:read' })
        .setProtectedHeader({ alg: 'HS256', kid: 'test-key-1', typ: 'at+jwt' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(publicJwk.x))
      expect((await call(hmac)).statusCode).toBe(401)

      const foreign = generateKeyPairSync('ed25519').privateKey
      const forged = await new SignJWT({ sub: user.user.id, sid, scope: 'journal:read' })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'test-key-1', typ: 'at+jwt' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(foreign)
      const forgedRes = await call(forged)
      expect(forgedRes.statusCode).toBe(401)
      expect(forgedRes.json().detail).toMatch(/signature/)

      const [h, , s] = user.accessToken.split('.')
      const tampered = `${h}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: randomUUID(), sid, scope: 'journal:read', iat: now, exp: now + 300 })}.${s}`
      expect((await call(tampered)).statusCode).toBe(401)
    })

    it('refuses a token once it expires, although verified tokens are remembered', async () => {
      const token = await signOwn({ sub: user.user.id, sid, scope: 'journal:read' }, { exp: Math.floor(Date.now() / 1000) + 30 })
      expect((await call(token)).statusCode).toBe(200)
      expect((await call(token)).statusCode).toBe(200)
      // A minute later (past exp and the clock tolerance): only the clocks move, the caches' and the wall clock.
      vi.useFakeTimers({ toFake: ['Date'] })
      try {
        vi.setSystemTime(Date.now() + 60_000)
        cacheClock.advance(60_000)
        const late = await call(token)
        expect(late.statusCode).toBe(401)
        expect(late.json().detail).toMatch(/expired/)
      } finally {
        vi.useRealTimers()
      }
    })

    it('verifies a token once, however many requests present it at the same time', async () => {
      const keys = await loadSigningKeys(config)
      let keyLookups = 0
      const verification = new (class extends Map<string, (typeof keys.verification extends Map<string, infer V> ? V : never)> {
        override get(kid: string) {
          keyLookups += 1
          return super.get(kid)
        }
      })(keys.verification)
      const tokens = createTokenService({ keys: { ...keys, verification }, config })
      const { token } = await tokens.issueUserToken(user.user.id, sid, ['journal:read'])
      const verified = await Promise.all(Array.from({ length: 10 }, () => tokens.verify(token)))
      expect(new Set(verified.map((result) => JSON.stringify(result))).size).toBe(1)
      expect(keyLookups).toBe(1)
      await tokens.verify(token)
      expect(keyLookups).toBe(1)
    })

    it('refuses a missing token, another scheme and garbage', async () => {
      const none = await app.inject({ method: 'GET', url: '/v1/me' })
      expect(none.statusCode).toBe(401)
      expect(none.json().code).toBe('unauthorized')
      expect((await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Basic ${user.accessToken}` } })).statusCode).toBe(401)
      expect((await call('not.a.jwt')).statusCode).toBe(401)
      expect((await call('garbage')).statusCode).toBe(401)
    })
  })

  describe('scopes', () => {
    it('answers 403 naming the missing scope', async () => {
      const token = await clientToken(app, ['directory:read'])
      expect((await app.inject({ method: 'GET', url: '/probe/directory', headers: bearer(token) })).json()).toEqual({ kind: 'client' })
      const res = await app.inject({ method: 'POST', url: '/probe/curate', headers: bearer(token) })
      expect(res.statusCode).toBe(403)
      expect(res.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'directory:write' })
      expect(res.json().detail).toContain('directory:write')
      expect(res.headers['www-authenticate']).toBe('Bearer error="insufficient_scope", scope="directory:write"')
    })

    it("keeps app tokens away from users' own data", async () => {
      const token = await clientToken(app, ['directory:read', 'directory:write'])
      for (const url of ['/v1/me', '/v1/me/export', '/probe/journal']) {
        const res = await app.inject({ method: 'GET', url, headers: bearer(token) })
        expect(res.statusCode, url).toBe(403)
        expect(res.json().code).toBe('user_token_required')
      }
    })

    it('gives users their scopes and no curation', async () => {
      const user = await registerUser(app)
      expect((await app.inject({ method: 'GET', url: '/probe/journal', headers: user.headers })).json()).toEqual({ userId: user.user.id })
      expect((await app.inject({ method: 'GET', url: '/probe/directory', headers: user.headers })).statusCode).toBe(200)
      expect((await app.inject({ method: 'POST', url: '/probe/curate', headers: user.headers })).statusCode).toBe(403)
    })
  })

  describe('client credentials', () => {
    it('issues a token for form-encoded, JSON and HTTP Basic requests', async () => {
      const client = await createClient(app, ['directory:read', 'directory:write'])
      const form = await app.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: 'directory:read' }).toString(),
      })
      expect(form.statusCode).toBe(200)
      expect(form.headers['cache-control']).toBe('no-store')
      expect(form.headers.pragma).toBe('no-cache')
      expect(form.json()).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'directory:read' })
      const formToken = form.json().access_token as string
      expect((await app.inject({ method: 'GET', url: '/probe/directory', headers: bearer(formToken) })).statusCode).toBe(200)
      expect((await app.inject({ method: 'POST', url: '/probe/curate', headers: bearer(formToken) })).statusCode).toBe(403)

      const json = await app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret } })
      expect(json.json().scope).toBe('directory:read directory:write')

      const basic = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')
      const viaBasic = await app.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=client_credentials',
      })
      expect(viaBasic.statusCode).toBe(200)
    })

    it('answers OAuth errors in OAuth’s shape', async () => {
      const client = await createClient(app, ['directory:read'])
      const token = (payload: Record<string, string>, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/v1/oauth/token', payload, headers })
      const cases: [Promise<Awaited<ReturnType<typeof token>>>, number, string][] = [
        [token({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: 'tps_wrong' }), 401, 'invalid_client'],
        [token({ grant_type: 'client_credentials', client_id: 'tpc_unknown', client_secret: client.clientSecret }), 401, 'invalid_client'],
        [token({ grant_type: 'client_credentials', client_id: client.clientId }), 401, 'invalid_client'],
        [token({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: 'directory:write' }), 400, 'invalid_scope'],
        [token({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: 'journal:read' }), 400, 'invalid_scope'],
        [token({ grant_type: 'password', client_id: client.clientId, client_secret: client.clientSecret }), 400, 'unsupported_grant_type'],
        [token({ client_id: client.clientId, client_secret: client.clientSecret }), 400, 'invalid_request'],
      ]
      for (const [pending, status, error] of cases) {
        const res = await pending
        expect(res.statusCode, res.body).toBe(status)
        expect(res.headers['content-type']).toMatch(/^application\/json/)
        expect(res.json()).toEqual({ error, error_description: expect.any(String) })
      }
      const basic = Buffer.from(`${client.clientId}:tps_wrong`).toString('base64')
      const viaBasic = await token({ grant_type: 'client_credentials' }, { authorization: `Basic ${basic}` })
      expect(viaBasic.statusCode).toBe(401)
      expect(viaBasic.headers['www-authenticate']).toBe('Basic realm="therapath"')
    })

    it('refuses a deactivated app', async () => {
      const client = await createClient(app, ['directory:read'])
      await app.db.prisma.apiClient.update({ where: { clientId: client.clientId }, data: { active: false } })
      const res = await app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret } })
      expect(res.statusCode).toBe(401)
      expect(res.json().error).toBe('invalid_client')
    })

    it("stops a deactivated app's tokens once the change feed reports its row changed, without waiting for the cache's minute", async () => {
      const client = await createClient(app, ['directory:read'])
      const res = await app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret } })
      const token = res.json<{ access_token: string }>().access_token
      const probe = () => app.inject({ method: 'GET', url: '/probe/directory', headers: bearer(token) })
      expect((await probe()).statusCode).toBe(200)
      const heard = new Promise<void>((resolve) => app.changes((event) => event.kind === 'client' && event.clientId === client.clientId && resolve()))
      await app.db.prisma.apiClient.update({ where: { clientId: client.clientId }, data: { active: false } })
      // The cached status is dropped when the change arrives (tests/integration/cache-coherence.test.ts does it across
      // instances); the caches' clock does not move.
      await heard
      const refused = await probe()
      expect(refused.statusCode).toBe(401)
      expect(refused.json()).toMatchObject({ code: 'invalid_token' })
      expect(refused.json().detail).toMatch(/deactivated/)
      // An instance that had not cached the app's status refuses at once.
      const fresh = await buildApp(config, { db: app.db })
      try {
        expect((await fresh.inject({ method: 'GET', url: '/v1/therapists', headers: bearer(token) })).statusCode).toBe(401)
      } finally {
        await fresh.close()
      }
    })

    it('stores only a hash of the secret', async () => {
      const client = await createClient(app, ['directory:read'])
      const row = await app.db.prisma.apiClient.findUnique({ where: { clientId: client.clientId } })
      expect(row?.secretHash).toMatch(/^[0-9a-f]{64}$/)
      expect(JSON.stringify(row)).not.toContain(client.clientSecret)
    })
  })

  describe('JWKS', () => {
    it('publishes the public key that verifies our tokens, and nothing private', async () => {
      const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
      expect(res.statusCode).toBe(200)
      expect(res.headers['cache-control']).toBe('public, max-age=300')
      const { keys } = res.json<{ keys: JWK[] }>()
      expect(keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: 'test-key-1', alg: 'EdDSA', use: 'sig' }])
      const user = await registerUser(app)
      const header = JSON.parse(Buffer.from(user.accessToken.split('.')[0] ?? '', 'base64url').toString())
      expect(header).toEqual({ alg: 'EdDSA', kid: 'test-key-1', typ: 'at+jwt' })
    })

    it('rotates keys without logging anyone out', async () => {
      const user = await registerUser(app) // signed with test-key-1
      const newKey = JSON.stringify({ ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey)), kid: 'test-key-2' })
      const rotated = await buildApp(testConfig({ AUTH_SIGNING_KEYS: `[${newKey}, ${TEST_SIGNING_KEY}]` }), { db: app.db })
      try {
        expect((await rotated.inject({ method: 'GET', url: '/v1/me', headers: user.headers })).statusCode).toBe(200)
        const fresh = await registerUser(rotated)
        expect(JSON.parse(Buffer.from(fresh.accessToken.split('.')[0] ?? '', 'base64url').toString())).toMatchObject({ alg: 'ES256', kid: 'test-key-2' })
        const kids = (await rotated.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys.map((k: JWK) => k.kid)
        expect(kids).toEqual(['test-key-2', 'test-key-1'])
      } finally {
        await rotated.close()
      }
    })
  })

  describe('account export and deletion', () => {
    it('exports the user without secrets', async () => {
      const user = await registerUser(app)
      const res = await app.inject({ method: 'GET', url: '/v1/me/export', headers: user.headers })
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-disposition']).toMatch(/attachment/)
      expect(res.json()).toMatchObject({ exportedAt: expect.any(String), user: { id: user.user.id, email: user.user.email, identityProviders: [] } })
      expect(res.body).not.toMatch(/passwordHash|argon2|tpr_/)
    })

    it('deletes the user and every row they own; their tokens stop at once', async () => {
      const user = await registerUser(app)
      await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: user.user.email, password: PASSWORD } })
      const other = await registerUser(app)

      const res = await app.inject({ method: 'DELETE', url: '/v1/me', headers: user.headers })
      expect(res.statusCode).toBe(204)
      expect((await app.inject({ method: 'GET', url: '/v1/me', headers: user.headers })).statusCode).toBe(401)
      expect((await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: user.refreshToken } })).statusCode).toBe(401)
      expect(await ownedRowCount(app, user.user.id)).toEqual({})
      expect((await app.inject({ method: 'GET', url: '/v1/me', headers: other.headers })).statusCode).toBe(200)
      // The mailbox is free again.
      expect((await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: user.user.email, password: PASSWORD } })).statusCode).toBe(201)
    })
  })
})

describe('trusted identity providers', () => {
  let jwksServer: Server
  let jwksUrl: string
  let idpKey: CryptoKey
  let app: App
  const idpIssuer = 'https://idp.partner.example'
  const restrictedIssuer = 'https://restricted.partner.example'

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true })
    idpKey = pair.privateKey
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' }
    jwksServer = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ keys: [publicJwk] }))
    })
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`
    const issuers = [
      { issuer: idpIssuer, jwksUrl, audience: 'partner-api' },
      { issuer: restrictedIssuer, jwksUrl, audience: 'partner-api', scopes: ['directory:read'] },
    ]
    app = await buildApp(testConfig({ AUTH_TRUSTED_ISSUERS: JSON.stringify(issuers) }), { db: await sharedDatabase() })
    addProbeRoutes(app)
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    await new Promise((resolve) => jwksServer.close(resolve))
  })

  const idpToken = (sub: string, options: { iss?: string; aud?: string; exp?: string | number; key?: CryptoKey } = {}) =>
    new SignJWT({ email: 'ignored@partner.example' })
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
      .setIssuer(options.iss ?? idpIssuer)
      .setAudience(options.aud ?? 'partner-api')
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(options.exp ?? '5m')
      .sign(options.key ?? idpKey)

  it('maps (issuer, sub) to one Therapath user, created on first sight', async () => {
    const sub = `partner-user-${randomUUID()}`
    const first = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(await idpToken(sub)) })
    expect(first.statusCode).toBe(200)
    expect(first.json()).toMatchObject({ signIn: 'external', email: null, identityProviders: [idpIssuer] })
    const again = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(await idpToken(sub)) })
    expect(again.json().id).toBe(first.json().id)
    const [journal, curate] = await Promise.all([
      app.inject({ method: 'GET', url: '/probe/journal', headers: bearer(await idpToken(sub)) }),
      app.inject({ method: 'POST', url: '/probe/curate', headers: bearer(await idpToken(sub)) }),
    ])
    expect(journal.json()).toEqual({ userId: first.json().id })
    expect(curate.statusCode).toBe(403)
    // The same subject at another issuer is another person.
    const elsewhere = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(await idpToken(sub, { iss: restrictedIssuer })) })
    expect(elsewhere.json().id).not.toBe(first.json().id)
  })

  it('creates one user when the first requests of a new subject race', async () => {
    const sub = `racer-${randomUUID()}`
    const token = await idpToken(sub)
    const results = await Promise.all([1, 2, 3].map(() => app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })))
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1)
  })

  it('treats only a unique violation as a lost race; any other database failure is an error, not a 404', async () => {
    const mapping = { id: randomUUID(), userId: randomUUID(), issuer: idpIssuer, subject: 's', lastSeenAt: new Date(), createdAt: new Date() }
    const fake = (failure: Error) =>
      createIdentityService({
        prisma: {
          externalIdentity: { findUnique: async () => null, findUniqueOrThrow: async () => mapping },
          user: {
            create: async () => {
              throw failure
            },
          },
          // The account's creation runs in a transaction with its access-trail record.
          $transaction: async (work: (tx: unknown) => Promise<unknown>) => work({ user: { create: async () => Promise.reject(failure) } }),
        } as unknown as Parameters<typeof createIdentityService>[0]['prisma'],
      })
    const raced = new Prisma.PrismaClientKnownRequestError('Unique constraint failed', { code: 'P2002', clientVersion: 'test' })
    expect(await fake(raced).userForExternalIdentity(idpIssuer, 's')).toBe(mapping.userId)
    const outage = new Error('Connection terminated unexpectedly')
    await expect(fake(outage).userForExternalIdentity(idpIssuer, 's')).rejects.toBe(outage)
  })

  it('gives a user who deleted their account a new, empty account on their next token', async () => {
    const sub = `leaver-${randomUUID()}`
    const first = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(await idpToken(sub)) })
    expect((await app.inject({ method: 'DELETE', url: '/v1/me', headers: bearer(await idpToken(sub)) })).statusCode).toBe(204)
    const after = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(await idpToken(sub)) })
    expect(after.statusCode).toBe(200)
    expect(after.json().id).not.toBe(first.json().id)
  })

  it('grants only the scopes configured for the issuer', async () => {
    const token = await idpToken(`limited-${randomUUID()}`, { iss: restrictedIssuer })
    expect((await app.inject({ method: 'GET', url: '/probe/directory', headers: bearer(token) })).statusCode).toBe(200)
    const res = await app.inject({ method: 'GET', url: '/probe/journal', headers: bearer(token) })
    expect(res.statusCode).toBe(403)
    expect(res.json().requiredScope).toBe('journal:read')
  })

  it.each([
    ['an unknown issuer', { iss: 'https://unknown.example' }, /does not trust/],
    ['the wrong audience', { aud: 'therapath' }, /"aud" claim/],
    ['an expired token', { exp: Math.floor(Date.now() / 1000) - 60 }, /expired/],
  ])('refuses %s', async (_label, options, detail) => {
    const res = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(await idpToken('someone', options)) })
    expect(res.statusCode).toBe(401)
    expect(res.json().detail).toMatch(detail)
  })

  it('refuses a token signed by a key the issuer does not publish', async () => {
    const stranger = (await generateKeyPair('RS256')).privateKey
    const res = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(await idpToken('someone', { key: stranger })) })
    expect(res.statusCode).toBe(401)
  })
})
