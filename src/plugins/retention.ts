import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import type { Database } from '../db/database.js'
import { record, systemActor } from '../lib/access-trail.js'
import { addDays, localDate, startOfLocalDay } from '../lib/local-time.js'
import { repeatWhileOpen } from '../lib/periodic.js'

/**
 * Retention: what is deleted for good, and when. One sweep, on a schedule, on whichever instance gets
 * the advisory lock first (the others skip that round), so several instances never sweep at once:
 *
 * - journal entries, per user: once the day an entry is about and the day it was written are both more
 *   than the user's `journalRetentionDays` whole days back in their time zone (capped by
 *   JOURNAL_RETENTION_MAX_DAYS, which also applies to users who keep everything). Each user's deletion
 *   is one transaction with its access-trail record (`system`, `retention`: how many went, not which);
 * - idempotency keys, once expired (24 hours after their first request);
 * - refresh tokens, spent or not, once expired (AUTH_REFRESH_TOKEN_TTL_DAYS after issue): until then a
 *   spent one is kept so that presenting it again is detected as reuse and ends its session;
 * - sessions: ended ones (logout, reuse) once ended longer than the access-token lifetime, and live ones
 *   once no refresh token is left (none can be refreshed, and their access tokens have expired).
 *
 * Time comes from an injected clock, so tests sweep at any instant and in any time zone.
 */

export interface RetentionClock {
  now(): Date
}

export interface SweepReport {
  /** False when another instance held the lock: nothing was done this round. */
  ran: boolean
  journalEntries: number
  /** Users whose entries were deleted. */
  users: number
  idempotencyKeys: number
  refreshTokens: number
  sessions: number
}

/** pg_try_advisory_lock key: "therapath retention" folded into a bigint. */
const SWEEP_LOCK = 7_465_746_582_991_203

declare module 'fastify' {
  interface FastifyInstance {
    retention: { sweep(): Promise<SweepReport> }
  }
}

interface Deps {
  db: Pick<Database, 'prisma' | 'query' | 'withSession'>
  config: Pick<Config, 'JOURNAL_RETENTION_MAX_DAYS' | 'AUTH_ACCESS_TOKEN_TTL_SECONDS'>
  clock: RetentionClock
}

export function createRetentionSweeper({ db, config, clock }: Deps) {
  const actor = systemActor('retention')
  const max = config.JOURNAL_RETENTION_MAX_DAYS ?? null

  /** The instant before which a user's entries go: the start of the local day `days` days before today. */
  const cutoffFor = (now: Date, days: number, tz: string): Date => startOfLocalDay(addDays(localDate(now, tz), -days), tz)

  async function sweepJournal(now: Date): Promise<{ entries: number; users: number }> {
    // Users with a retention in force: their own setting, capped by the maximum, or the maximum alone.
    const users = await db.query<{ user_id: string; days: number; tz: string }>(
      `select u.id as user_id, least(coalesce(s.journal_retention_days, $1::int), $1::int) as days, coalesce(s.time_zone, 'UTC') as tz
         from users u left join user_settings s on s.user_id = u.id
        where coalesce(s.journal_retention_days, $1::int) is not null
          and exists (select 1 from journal_entries e where e.user_id = u.id)`,
      [max],
    )
    let entries = 0
    let swept = 0
    for (const user of users) {
      const cutoff = cutoffFor(now, user.days, user.tz)
      const deleted = await db.prisma.$transaction(async (tx) => {
        const count = await tx.$executeRaw`delete from journal_entries where user_id = ${user.user_id}::uuid and greatest(occurred_at, created_at) < ${cutoff.toISOString()}::timestamptz`
        if (count > 0) await record(tx, actor, { userId: user.user_id, action: 'delete', resourceType: 'journal_entries', itemCount: count })
        return count
      })
      entries += deleted
      if (deleted > 0) swept += 1
    }
    return { entries, users: swept }
  }

  async function sweepHousekeeping(now: Date) {
    const ended = new Date(now.getTime() - config.AUTH_ACCESS_TOKEN_TTL_SECONDS * 1000)
    const idempotencyKeys = await db.prisma.idempotencyKey.deleteMany({ where: { expiresAt: { lt: now } } })
    const refreshTokens = await db.prisma.refreshToken.deleteMany({ where: { expiresAt: { lt: now } } })
    const sessions = await db.prisma.authSession.deleteMany({
      where: {
        OR: [
          { revokedAt: { lt: ended } },
          { revokedAt: null, createdAt: { lt: ended }, refreshTokens: { none: {} } },
        ],
      },
    })
    return { idempotencyKeys: idempotencyKeys.count, refreshTokens: refreshTokens.count, sessions: sessions.count }
  }

  return {
    /** One sweep now (by the clock), unless another instance is sweeping. */
    async sweep(): Promise<SweepReport> {
      return db.withSession(async (session) => {
        const [lock] = await session.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [SWEEP_LOCK])
        if (!lock?.locked) return { ran: false, journalEntries: 0, users: 0, idempotencyKeys: 0, refreshTokens: 0, sessions: 0 }
        try {
          const now = clock.now()
          const journal = await sweepJournal(now)
          return { ran: true, journalEntries: journal.entries, users: journal.users, ...(await sweepHousekeeping(now)) }
        } finally {
          await session.query('select pg_advisory_unlock($1::bigint)', [SWEEP_LOCK])
        }
      })
    },
  }
}

/** Decorates `app.retention` and runs the sweep every RETENTION_SWEEP_INTERVAL_MINUTES (the first one an interval after start). */
export const retentionPlugin = fp(
  async (app, opts: { config: Config; clock?: RetentionClock | undefined }) => {
    const sweeper = createRetentionSweeper({ db: app.db, config: opts.config, clock: opts.clock ?? { now: () => new Date() } })
    app.decorate('retention', sweeper)
    const minutes = opts.config.RETENTION_SWEEP_INTERVAL_MINUTES
    if (minutes === 0) return
    repeatWhileOpen(
      app,
      minutes * 60_000,
      async () => {
        const report = await sweeper.sweep()
        if (report.ran) app.log.info({ retention: report }, 'retention sweep done')
      },
      'retention sweep failed; the next round retries',
    )
  },
  { name: 'retention', dependencies: ['database'] },
)
