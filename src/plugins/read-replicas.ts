import fp from 'fastify-plugin'
import { Counter, Gauge } from 'prom-client'
import type { Config } from '../config.js'
import { openPostgres } from '../db/database.js'
import { ReadRouter, type ReadTarget, type ReplicaStatus } from '../db/replicas.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Where directory reads go (src/db/replicas.ts); the primary alone without DATABASE_READ_URLS. */
    reads: {
      reader(): ReadTarget
      /** How long after a commit a directory read may still show the old rows (0 without replicas). */
      readonly staleReadMs: number
      status(): ReplicaStatus[]
    }
  }
}

type ReplicaConfig = Pick<Config, 'DATABASE_READ_URLS' | 'DATABASE_MAX_REPLICA_LAG_MS' | 'DATABASE_REPLICA_CHECK_MS' | 'DATABASE_READ_POOL_SIZE'>

/**
 * Read replicas for the directory. Without DATABASE_READ_URLS every read stays on `app.db`, as before;
 * with them, one pool per replica (connecting lazily: building the app runs no query), checked from
 * `ready` on, reported on /readyz (a replica down is not a reason to take the instance out: reads use
 * the primary) and counted per target on /metrics.
 */
export const readReplicasPlugin = fp(
  async (app, { config }: { config: ReplicaConfig }) => {
    const urls = config.DATABASE_READ_URLS
    if (urls.length === 0) {
      app.decorate('reads', { reader: () => app.db, staleReadMs: 0, status: () => [] })
      return
    }
    const reads = new Counter({
      name: 'therapath_db_reads_total',
      help: 'Directory read statements by target (primary, replica-N) and outcome (ok, error, fallback: a replica could not answer and the primary did)',
      labelNames: ['target', 'outcome'] as const,
      registers: [app.metrics],
    })
    const router = new ReadRouter({
      primary: app.db,
      replicas: urls.map((url, i) => ({ name: `replica-${i + 1}`, db: openPostgres(url, { poolSize: config.DATABASE_READ_POOL_SIZE }) })),
      maxLagMs: config.DATABASE_MAX_REPLICA_LAG_MS,
      checkMs: config.DATABASE_REPLICA_CHECK_MS,
      log: app.log,
      onRead: (target, outcome) => reads.inc({ target, outcome }),
    })
    new Gauge({
      name: 'therapath_db_replica_lag_ms',
      help: 'Age of the newest primary data each replica lacks, as last checked (-1: unknown)',
      labelNames: ['target'] as const,
      registers: [app.metrics],
      collect() {
        for (const replica of router.status()) this.set({ target: replica.name }, replica.lagMs ?? -1)
      },
    })
    new Gauge({
      name: 'therapath_db_replica_healthy',
      help: '1 while a replica takes directory reads (answers, lag within DATABASE_MAX_REPLICA_LAG_MS), else 0',
      labelNames: ['target'] as const,
      registers: [app.metrics],
      collect() {
        for (const replica of router.status()) this.set({ target: replica.name }, replica.state === 'healthy' ? 1 : 0)
      },
    })
    app.decorate('reads', { reader: () => router.reader(), staleReadMs: router.staleReadMs, status: () => router.status() })
    app.readinessParts.set('replicas', { check: () => ({ ready: true, detail: '', report: router.status() }) })
    app.addHook('onReady', async () => router.start())
    app.addHook('onClose', async () => router.close())
  },
  { name: 'read-replicas', dependencies: ['database', 'metrics', 'readiness'] },
)
