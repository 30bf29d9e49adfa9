import type { FastifyBaseLogger } from 'fastify'
import { isConnectionError } from '../lib/db-errors.js'
import type { Database } from './database.js'

export interface StartupClock {
  now(): number
  sleep(ms: number): Promise<void>
}

const realClock: StartupClock = { now: () => performance.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) }

/** The database could not be reached for the whole retry period; its message is the one line the process exits with. */
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError'
}

/** A connection error's own words (e.g. `connect ECONNREFUSED 127.0.0.1:5432`), on one line. */
const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0]?.trim() || 'unknown error'

/**
 * Waits until the database answers `select 1`, retrying connection errors with exponential backoff
 * (0.5 s doubling to at most 5 s) for `retrySeconds`, with one log line per failed attempt. Errors that
 * are not about reaching the database (bad password, unknown database) are not retried.
 * @throws DatabaseUnreachableError when the database still cannot be reached after `retrySeconds`
 */
export async function waitForDatabase(db: Pick<Database, 'query'>, log: FastifyBaseLogger, retrySeconds: number, clock: StartupClock = realClock): Promise<number> {
  const giveUpAt = clock.now() + retrySeconds * 1000
  for (let attempt = 1, delay = 500; ; attempt++, delay = Math.min(delay * 2, 5000)) {
    try {
      await db.query('select 1')
      return attempt
    } catch (error) {
      if (!isConnectionError(error)) throw error
      const left = giveUpAt - clock.now()
      if (left <= 0) {
        throw new DatabaseUnreachableError(`the database is unreachable after ${attempt} attempt${attempt === 1 ? '' : 's'} in ${retrySeconds} s (DB_START_RETRY_SECONDS): ${reasonOf(error)}`)
      }
      const wait = Math.min(delay, left)
      log.warn({ attempt, retryInMs: Math.round(wait) }, `database unreachable (attempt ${attempt}): ${reasonOf(error)}; retrying in ${(wait / 1000).toFixed(1)} s`)
      await clock.sleep(wait)
    }
  }
}
