import { randomBytes } from 'node:crypto'
import type { Config } from '../../config.js'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { type Actor, withTrail } from '../../lib/access-trail.js'
import { isUniqueViolation } from '../../lib/db-errors.js'
import { ConflictError, UnauthorizedError, ValidationError } from '../../lib/errors.js'
import { sha256Hex } from '../../lib/hash.js'
import { USER_SCOPES } from '../../lib/scopes.js'
import { toUser } from '../../lib/user.js'
import type { TokenPair } from './auth-schemas.js'
import { decoyPasswordHash, hashPassword, passwordProblem, verifyPassword } from './passwords.js'
import type { TokenService } from './tokens.js'

/**
 * Sign-up, sign-in and sessions for end users who hold a Therapath password. A session is a
 * family of refresh tokens: each refresh spends one and issues the next; presenting a spent
 * one after a short grace period means it leaked, so the whole family (and its access tokens) ends.
 */

/** Argon2id (passwords.ts); `decoy` is verified against for an unknown email. Tests wrap it to count the work. */
const ARGON2ID = { hash: hashPassword, verify: verifyPassword, decoy: decoyPasswordHash }
export type PasswordHasher = typeof ARGON2ID

type Deps = {
  prisma: Pick<PrismaClient, 'user' | 'authSession' | 'refreshToken' | '$transaction'>
  tokens: TokenService
  config: Pick<Config, 'AUTH_REFRESH_TOKEN_TTL_DAYS'>
  passwords?: PasswordHasher
}

/** A user row: what a token pair shows of the user. */
type UserRow = Parameters<typeof toUser>[0]

/** Refresh tokens are 256 random bits, stored only as their SHA-256: a slow hash would add nothing. */
const newRefreshToken = () => `tpr_${randomBytes(32).toString('base64url')}`

const invalidCredentials = () => new UnauthorizedError('The email or password is not correct.', 'invalid_credentials')
const invalidRefreshToken = (detail = 'The refresh token is not valid; sign in again.') => new UnauthorizedError(detail, 'invalid_refresh_token')
const sessionEnded = () => invalidRefreshToken('The session has ended; sign in again.')

/** How long a spent refresh token counts as the client's own retry rather than a leak. */
export const REUSE_GRACE_MS = 10_000

export function createAuthService({ prisma, tokens, config, passwords = ARGON2ID }: Deps) {
  const refreshTtlMs = config.AUTH_REFRESH_TOKEN_TTL_DAYS * 24 * 60 * 60 * 1000

  async function issuePair(user: UserRow, sessionId: string, refreshToken: string): Promise<TokenPair> {
    const access = await tokens.issueUserToken(user.id, sessionId, USER_SCOPES)
    return {
      user: toUser(user),
      accessToken: access.token,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: access.expiresIn,
      scope: USER_SCOPES.join(' '),
    }
  }

  /** A new session for the user; a sign-in (not the first session of a registration) is on the access trail. */
  async function startSession(user: UserRow, signIn: Actor | null): Promise<TokenPair> {
    const refreshToken = newRefreshToken()
    const create = (tx: Pick<PrismaClient, 'authSession'>) =>
      tx.authSession.create({
        data: {
          userId: user.id,
          refreshTokens: { create: { tokenHash: sha256Hex(refreshToken), expiresAt: new Date(Date.now() + refreshTtlMs) } },
        },
        select: { id: true },
      })
    const session =
      signIn === null
        ? await create(prisma)
        : await withTrail(prisma, signIn, create, (created) => ({ userId: user.id, action: 'create', resourceType: 'session', resourceId: created.id }))
    return issuePair(user, session.id, refreshToken)
  }

  return {
    /** @throws ValidationError for a weak password, ConflictError when the email has an account. */
    async register(input: { email: string; password: string; displayName?: string | undefined }, actor: Actor): Promise<TokenPair> {
      const problem = passwordProblem(input.password, input.email)
      if (problem) throw new ValidationError('The password is not acceptable.', [{ in: 'body', field: 'password', message: problem.message, code: problem.code }])
      const passwordHash = await passwords.hash(input.password)
      let user: UserRow
      try {
        user = await withTrail(
          prisma,
          actor,
          (tx) => tx.user.create({ data: { email: input.email, passwordHash, displayName: input.displayName ?? null } }),
          (created) => ({ userId: created.id, action: 'create', resourceType: 'account' }),
        )
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new ConflictError('An account with this email already exists; sign in instead.', 'email_taken')
        }
        throw error
      }
      return startSession(user, null)
    },

    /** Same status, body and work for an unknown email and a wrong password. */
    async login(input: { email: string; password: string }, actor: Actor): Promise<TokenPair> {
      const user = await prisma.user.findUnique({ where: { email: input.email } })
      const ok = await passwords.verify(user?.passwordHash ?? (await passwords.decoy()), input.password)
      if (!user?.passwordHash || !ok) throw invalidCredentials()
      return startSession(user, actor)
    },

    /**
     * Spends a refresh token and issues the next pair in the same session. A token spent less than
     * `REUSE_GRACE_MS` ago answers `refresh_token_spent` and ends nothing: that is a client's own
     * retry (a lost response, two tabs refreshing at once), and the request that spent it holds the
     * live pair. Presented later, it was kept by someone else, so the session ends.
     */
    async refresh(refreshToken: string): Promise<TokenPair> {
      const tokenHash = sha256Hex(refreshToken)
      const now = new Date()
      // Spend it atomically: of two concurrent refreshes with one token, exactly one wins.
      const spent = await prisma.refreshToken.updateMany({ where: { tokenHash, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } })
      const row = await prisma.refreshToken.findUnique({ where: { tokenHash }, include: { session: { include: { user: true } } } })
      if (!row) throw invalidRefreshToken()
      if (spent.count === 0) {
        if (row.usedAt !== null) {
          if (now.getTime() - row.usedAt.getTime() < REUSE_GRACE_MS) {
            throw new UnauthorizedError(
              'This refresh token was used a moment ago by another request, which received the next token pair; use that pair.',
              'refresh_token_spent',
            )
          }
          await prisma.authSession.updateMany({
            where: { id: row.sessionId, revokedAt: null },
            data: { revokedAt: now, revokedReason: 'refresh_token_reuse' },
          })
          throw invalidRefreshToken('This refresh token was already used, so the session has been ended to be safe; sign in again.')
        }
        throw invalidRefreshToken('The refresh token has expired; sign in again.')
      }
      if (row.session.revokedAt !== null) throw sessionEnded()
      const next = newRefreshToken()
      // The session may have ended since it was read (logout, reuse detected elsewhere): the new pair
      // is issued only if it is still active when the next token is written. Should it have ended,
      // the token written here belongs to a revoked session and can never be used.
      const [live] = await prisma.$transaction([
        prisma.authSession.updateMany({ where: { id: row.sessionId, revokedAt: null }, data: { lastUsedAt: now } }),
        prisma.refreshToken.create({ data: { sessionId: row.sessionId, tokenHash: sha256Hex(next), expiresAt: new Date(now.getTime() + refreshTtlMs) } }),
      ])
      if (live.count !== 1) throw sessionEnded()
      return issuePair(row.session.user, row.sessionId, next)
    },

    /** Ends the session the refresh token belongs to. Unknown tokens are ignored, so logout never fails. */
    async logout(refreshToken: string, actor: Actor): Promise<void> {
      const row = await prisma.refreshToken.findUnique({ where: { tokenHash: sha256Hex(refreshToken) }, select: { sessionId: true, session: { select: { userId: true } } } })
      if (!row) return
      await withTrail(
        prisma,
        actor,
        (tx) => tx.authSession.updateMany({ where: { id: row.sessionId, revokedAt: null }, data: { revokedAt: new Date(), revokedReason: 'logout' } }),
        // Only the request that ended the session records it.
        (ended) => (ended.count === 1 ? { userId: row.session.userId, action: 'delete', resourceType: 'session', resourceId: row.sessionId } : null),
      )
    },
  }
}
