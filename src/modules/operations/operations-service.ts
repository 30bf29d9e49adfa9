import { setTimeout as sleep } from 'node:timers/promises'
import type { Database } from '../../db/database.js'
import { type Migration, migrationStatus } from '../../db/migrations.js'
import { ServiceUnavailableError } from '../../lib/errors.js'
import type { ReadinessPart } from '../../plugins/readiness.js'

const READINESS_TIMEOUT_MS = 2000

/**
 * Readiness: the database answers within a deadline and has every migration this build ships.
 * Once the migrations have been seen applied, that is remembered (they are not un-applied under a
 * running service), and each probe after that is one `select 1`.
 */
export function createOperationsService({
  db,
  migrations,
  parts,
  draining = () => false,
}: {
  db: Database
  migrations: Migration[]
  parts: Map<string, ReadinessPart>
  /** True once the instance is stopping (src/lifecycle/shutdown.ts): readiness fails at once, without a query. */
  draining?: () => boolean
}) {
  let migrated = false

  async function probe(): Promise<void> {
    if (migrated) {
      await db.query('select 1')
      return
    }
    const status = await db.withSession((session) => migrationStatus(session, migrations))
    if (status.pending.length > 0 || status.failed.length > 0) {
      throw new ServiceUnavailableError(`The database is not migrated: ${status.pending.length} pending, ${status.failed.length} failed.`, 'not_migrated')
    }
    migrated = true
  }

  return {
    async readiness() {
      if (draining()) throw new ServiceUnavailableError('The instance is shutting down.', 'shutting_down')
      const deadline = new AbortController()
      try {
        await Promise.race([probe(), sleep(READINESS_TIMEOUT_MS, undefined, { signal: deadline.signal }).then(() => Promise.reject(new Error('timeout')))])
      } catch (error) {
        if (error instanceof ServiceUnavailableError) throw error
        throw new ServiceUnavailableError('The database is not reachable.', 'database_unreachable')
      } finally {
        deadline.abort()
      }
      const reports: Record<string, unknown> = {}
      for (const [name, part] of parts) {
        const { ready, detail, report } = part.check()
        if (!ready) throw new ServiceUnavailableError(detail, 'not_ready')
        reports[name] = report
      }
      return { status: 'ready' as const, database: db.kind, migrations: { applied: migrations.length }, ...reports }
    },
  }
}
