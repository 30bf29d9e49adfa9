import { randomUUID } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, type JWTPayload, jwtVerify, SignJWT } from 'jose'
import { z } from 'zod'
import type { Config, TrustedIssuer } from '../../config.js'
import { UnauthorizedError } from '../../lib/errors.js'
import { isScope, type Scope, USER_SCOPES } from '../../lib/scopes.js'
import type { SigningKeys } from './keys.js'

/**
 * Access tokens: short-lived JWTs (`typ: at+jwt`, RFC 9068) signed with our asymmetric keys,
 * and, for integrators with their own identity provider, user tokens from trusted issuers
 * verified against the issuer's JWKS. Verification pins algorithm, issuer and audience;
 * `alg: none`, symmetric algorithms, unknown keys, tampering, expiry and `nbf` all fail.
 */

/** Who a verified token speaks for, before the database is consulted. */
export type VerifiedToken =
  | { kind: 'user'; issuer: 'self'; userId: string; sessionId: string; scopes: Scope[] }
  | { kind: 'external-user'; issuer: string; subject: string; scopes: Scope[] }
  | { kind: 'client'; clientId: string; scopes: Scope[] }

/**
 * Verified tokens are remembered briefly, keyed by the exact token: a signature check costs about
 * 0.16 ms of CPU (Ed25519 here; more for a trusted issuer's RSA), which at a few thousand directory
 * searches a second was most of the API's own work, while apps reuse one token for its lifetime.
 * An entry never outlives the token's `exp`, and lasts at most a minute, so a key a trusted issuer
 * drops from its JWKS stops being honoured within a minute (our own keys are read at start).
 * Revocation is unaffected: sessions and apps are checked on every request after verification.
 * Concurrent requests with one uncached token share a single verification (lru-cache's fetch).
 */
const VERIFIED_CACHE_MS = 60_000
const VERIFIED_CACHE_SIZE = 10_000

const OWN_ALGORITHMS = ['EdDSA', 'ES256']
/** Asymmetric algorithms accepted from trusted issuers; never `none` or HMAC. */
const EXTERNAL_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA']
const CLOCK_TOLERANCE_SECONDS = 5

const OwnClaimsSchema = z.object({
  sub: z.string().min(1),
  scope: z.string(),
  sid: z.string().uuid().optional(),
  client_id: z.string().optional(),
})

const parseScopes = (scope: string): Scope[] => scope.split(' ').filter(isScope)

/** A verified token and its verified `exp` in ms, which bounds how long it is cached. */
interface Verified {
  verified: VerifiedToken
  expiresAt: number
}
const expiresAt = (payload: JWTPayload) => (payload.exp ?? 0) * 1000

export interface IssuedToken {
  token: string
  expiresIn: number
}

/** The clock cache lifetimes are measured with (lru-cache's `perf`); tests inject one they can move. */
export type CacheClock = { now(): number }

export function createTokenService({ keys, config, clock }: { keys: SigningKeys; config: Config; clock?: CacheClock | undefined }) {
  const ttl = config.AUTH_ACCESS_TOKEN_TTL_SECONDS
  const trusted = new Map<string, { issuer: TrustedIssuer; jwks: ReturnType<typeof createRemoteJWKSet> }>(
    config.AUTH_TRUSTED_ISSUERS.map((issuer) => [issuer.issuer, { issuer, jwks: createRemoteJWKSet(new URL(issuer.jwksUrl), { timeoutDuration: 3000 }) }]),
  )


  async function sign(claims: JWTPayload & { scope: string }, subject: string): Promise<IssuedToken> {
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: keys.signing.alg, kid: keys.signing.kid, typ: 'at+jwt' })
      .setIssuer(config.PUBLIC_URL)
      .setAudience(config.AUTH_AUDIENCE)
      .setSubject(subject)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(`${ttl}s`)
      .setJti(randomUUID())
      .sign(keys.signing.key)
    return { token, expiresIn: ttl }
  }

  async function verifyOwn(token: string): Promise<Verified> {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid === undefined ? undefined : keys.verification.get(header.kid)
        if (!key || key.alg !== header.alg) throw new joseErrors.JWKSNoMatchingKey()
        return key.key
      },
      {
        issuer: config.PUBLIC_URL,
        audience: config.AUTH_AUDIENCE,
        algorithms: OWN_ALGORITHMS,
        typ: 'at+jwt',
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'iat', 'sub'],
      },
    )
    const claims = OwnClaimsSchema.safeParse(payload)
    if (!claims.success) throw new UnauthorizedError('The access token is malformed.', 'invalid_token')
    const scopes = parseScopes(claims.data.scope)
    if (claims.data.client_id !== undefined && claims.data.client_id === claims.data.sub) {
      return { verified: { kind: 'client', clientId: claims.data.sub, scopes }, expiresAt: expiresAt(payload) }
    }
    if (claims.data.sid === undefined) throw new UnauthorizedError('The access token is malformed.', 'invalid_token')
    return { verified: { kind: 'user', issuer: 'self', userId: claims.data.sub, sessionId: claims.data.sid, scopes }, expiresAt: expiresAt(payload) }
  }

  async function verifyExternal(token: string, issuerId: string): Promise<Verified> {
    const entry = trusted.get(issuerId)
    if (!entry) throw new UnauthorizedError('The token was issued by an issuer this service does not trust.', 'invalid_token')
    const { payload } = await jwtVerify(token, entry.jwks, {
      issuer: entry.issuer.issuer,
      audience: entry.issuer.audience ?? config.AUTH_AUDIENCE,
      algorithms: EXTERNAL_ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp', 'sub'],
    })
    const subject = typeof payload.sub === 'string' && payload.sub.length > 0 && payload.sub.length <= 255 ? payload.sub : undefined
    if (!subject) throw new UnauthorizedError('The token has no usable subject.', 'invalid_token')
    // Scopes come from our configuration for that issuer, never from claims it chose.
    return { verified: { kind: 'external-user', issuer: entry.issuer.issuer, subject, scopes: entry.issuer.scopes ?? USER_SCOPES }, expiresAt: expiresAt(payload) }
  }

  /** Verifies a token from any accepted issuer, without the cache. */
  async function verifyUncached(token: string): Promise<Verified> {
    let issuer: unknown
    try {
      issuer = decodeJwt(token).iss
    } catch {
      throw new UnauthorizedError('The access token is not a JWT.', 'invalid_token')
    }
    try {
      if (issuer === config.PUBLIC_URL) return await verifyOwn(token)
      if (typeof issuer !== 'string') throw new UnauthorizedError('The access token has no issuer.', 'invalid_token')
      return await verifyExternal(token, issuer)
    } catch (error) {
      throw toUnauthorized(error)
    }
  }

  const verifiedCache = new LRUCache<string, VerifiedToken>({
    max: VERIFIED_CACHE_SIZE,
    ttl: VERIFIED_CACHE_MS,
    // Read the clock on every check rather than arming a timer to refresh a cached reading.
    ttlResolution: 0,
    perf: clock,
    fetchMethod: async (token, _stale, { options }) => {
      const { verified, expiresAt: exp } = await verifyUncached(token)
      // Never beyond the token's own `exp` (at least 1 ms: a ttl of 0 would mean forever).
      options.ttl = Math.max(1, Math.min(VERIFIED_CACHE_MS, exp - Date.now()))
      return verified
    },
  })

  return {
    issueUserToken: (userId: string, sessionId: string, scopes: Scope[]) => sign({ scope: scopes.join(' '), sid: sessionId }, userId),
    issueClientToken: (clientId: string, scopes: Scope[]) => sign({ scope: scopes.join(' '), client_id: clientId }, clientId),

    /**
     * Verifies a bearer token from any accepted issuer.
     * @throws UnauthorizedError (`invalid_token`) with a reason an integrator can act on.
     */
    verify: (token: string): Promise<VerifiedToken> => verifiedCache.forceFetch(token),

    /** Drops the cached tokens that speak for someone who changed (an app deactivated, an account deleted: the change feed says so). */
    forget(matches: (verified: VerifiedToken) => boolean): void {
      const gone = [...verifiedCache.entries()].filter(([, verified]) => matches(verified)).map(([token]) => token)
      for (const token of gone) verifiedCache.delete(token)
    },
  }
}

export type TokenService = ReturnType<typeof createTokenService>

function toUnauthorized(error: unknown): UnauthorizedError {
  if (error instanceof UnauthorizedError) return error
  if (error instanceof joseErrors.JWTExpired) return new UnauthorizedError('The access token has expired.', 'invalid_token')
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return new UnauthorizedError(`The access token's "${error.claim}" claim is not valid here.`, 'invalid_token')
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new UnauthorizedError('The token signing algorithm is not accepted.', 'invalid_token')
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey) {
    return new UnauthorizedError('The access token signature is not valid.', 'invalid_token')
  }
  // Malformed tokens, an unreachable issuer JWKS, anything else: refuse without detail.
  return new UnauthorizedError('The access token could not be verified.', 'invalid_token')
}
