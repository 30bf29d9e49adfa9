import { fileURLToPath } from 'node:url'
import type { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import type { Config } from '../config.js'
import { PrismaClient } from '../generated/prisma/client.js'
import { lockDataDir } from './data-dir-lock.js'
import type { SqlSession } from './migrations.js'

/** Where the committed migrations live, from `src/db` and from `dist/db` alike. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url))

/**
 * The one handle on storage. Both backends expose the same Prisma client (queries, migrations and
 * raw SQL are identical); `query` is for the few hand-written statements Prisma cannot express,
 * such as distance ordering, and runs on whichever backend is in use.
 */
export interface Database {
  readonly kind: 'postgres' | 'embedded'
  readonly prisma: PrismaClient
  /**
   * @param options.name prepare the statement once per connection under this name (a fixed text run
   *   often: Postgres then skips parsing and planning it); ignored by the embedded database
   */
  query<Row>(sql: string, params?: unknown[], options?: { name?: string }): Promise<Row[]>
  /** Runs `work` on one connection, as advisory locks and explicit transactions need. */
  withSession<T>(work: (session: SqlSession) => Promise<T>): Promise<T>
  /**
   * LISTENs on a channel on a connection of its own: `onMessage` gets each NOTIFY's payload once the
   * notifying transaction commits; `onLost` (once) when the connection fails, after which nothing more
   * is heard (notifications in between are lost: the caller re-reads what it needs).
   */
  listen(channel: string, onMessage: (payload: string) => void, onLost: (error: unknown) => void): Promise<Listener>
  close(): Promise<void>
}

export interface Listener {
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** Connections in the Postgres pool. */
  poolSize?: number
  /** Longest wait for a connection (from the pool, or a new one), in ms (DB_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number
  /**
   * Longest one statement may run, in ms (DB_STATEMENT_TIMEOUT_MS): Postgres cancels it then, and the
   * client stops waiting one second later when the server does not answer at all.
   */
  statementTimeoutMs?: number
}

/** The Postgres options of a configuration: every wait toward the database is bounded. */
export const databaseOptions = (config: Pick<Config, 'DB_CONNECT_TIMEOUT_MS' | 'DB_STATEMENT_TIMEOUT_MS'>): DatabaseOptions => ({
  connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
  statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
})

/** Opens Postgres when `DATABASE_URL` is set, otherwise the embedded database in `DATA_DIR` (PGlite, WebAssembly: loaded only then). */
export async function openDatabase(config: Config, options: DatabaseOptions = {}): Promise<Database> {
  if (config.DATABASE_URL) return openPostgres(config.DATABASE_URL, { ...databaseOptions(config), ...options })
  const { startPGlite } = await import('./pglite.js')
  if (config.DATA_DIR === 'memory') return openEmbedded(await startPGlite(config.DATA_DIR))
  // Single-process: the server and the operator commands refuse a DATA_DIR another process has open.
  const lock = lockDataDir(config.DATA_DIR)
  try {
    const db = await openEmbedded(await startPGlite(config.DATA_DIR))
    return {
      ...db,
      async close() {
        try {
          await db.close()
        } finally {
          lock.release()
        }
      },
    }
  } catch (error) {
    lock.release()
    throw error
  }
}

/**
 * A query that timed out on the client side (`query_timeout`: the server did not answer at all) leaves
 * its connection in an unknown state: the statement, or a transaction's BEGIN, may still run once the
 * server wakes up, and a transaction's connection goes back to the pool without an error. So such a
 * connection is ended at once (the server rolls back whatever it held when it reads the goodbye) and the
 * pool discards it, instead of handing a half-open transaction to the next request.
 */
function endOnQueryTimeout(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const result = query(...args)
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if (error instanceof Error && error.message === 'Query read timeout') void client.end().catch(() => undefined)
      })
    }
    return result
  }
}

/** Postgres through one `pg` pool shared by Prisma and raw queries. Connects lazily, on first use. */
export function openPostgres(connectionString: string, options: DatabaseOptions = {}): Database {
  const statementTimeout = options.statementTimeoutMs
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    // Without these a frozen or partitioned server makes every request wait for ever.
    connectionTimeoutMillis: options.connectTimeoutMs ?? 0,
    ...(statementTimeout ? { statement_timeout: statementTimeout, query_timeout: statementTimeout + 1000 } : {}),
    keepAlive: true,
  })
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined)
  if (statementTimeout) pool.on('connect', endOnQueryTimeout)
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) })
  return {
    kind: 'postgres',
    prisma,
    async query<Row>(sql: string, params: unknown[] = [], options: { name?: string } = {}) {
      const result = await pool.query(options.name === undefined ? { text: sql, values: params } : { name: options.name, text: sql, values: params })
      return result.rows as Row[]
    },
    async withSession<T>(work: (session: SqlSession) => Promise<T>) {
      const client = await pool.connect()
      let broken: Error | undefined
      try {
        return await work({
          query: async <Row>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as Row[],
          exec: async (script: string) => {
            await client.query(script)
          },
        })
      } catch (error) {
        // A session that failed mid-way may still hold a lock or an open transaction: never reuse it.
        broken = error instanceof Error ? error : new Error(String(error))
        throw error
      } finally {
        client.release(broken)
      }
    },
    async listen(channel, onMessage, onLost) {
      const client = new pg.Client({ connectionString })
      let done = false
      const lose = (error: unknown) => {
        if (done) return
        done = true
        onLost(error)
      }
      client.on('error', lose)
      client.on('end', () => lose(new Error('the listening connection ended')))
      client.on('notification', (message) => {
        if (message.channel === channel) onMessage(message.payload ?? '')
      })
      try {
        await client.connect()
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
      } catch (error) {
        done = true
        await client.end().catch(() => undefined)
        throw error
      }
      return {
        async close() {
          done = true
          await client.end()
        },
      }
    },
    async close() {
      await prisma.$disconnect()
      await pool.end()
    },
  }
}

/** The embedded database: one in-process PGlite shared by Prisma and raw queries. */
export async function openEmbedded(pglite: PGlite): Promise<Database> {
  const { PrismaPGlite } = await import('pglite-prisma-adapter')
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) })
  const query = async <Row>(sql: string, params: unknown[] = []) => (await pglite.query<Row>(sql, params)).rows
  const session: SqlSession = {
    query,
    exec: async (script: string) => {
      await pglite.exec(script)
    },
  }
  return {
    kind: 'embedded',
    prisma,
    query,
    withSession: (work) => work(session),
    async listen(channel, onMessage) {
      // In process: the connection cannot be lost while the database is open.
      const unsubscribe = await pglite.listen(channel, onMessage)
      return { close: () => unsubscribe() }
    },
    async close() {
      await prisma.$disconnect()
      if (!pglite.closed) await pglite.close()
    },
  }
}
