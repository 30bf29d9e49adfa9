import { randomUUID } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { sha256Hex } from '../lib/hash.js'

/**
 * Applies `prisma/migrations/<name>/migration.sql` the way `prisma migrate deploy` does and keeps
 * Prisma's `_prisma_migrations` table exactly as Prisma would (same columns, sha256 checksums),
 * so an operator's `prisma migrate status` agrees with what the app did. Differences, on purpose:
 * each migration runs in its own transaction (Postgres DDL is transactional, so a failed one leaves
 * nothing half-applied), and an applied migration whose file changed stops the start instead of
 * being ignored.
 */

export interface Migration {
  /** Directory name, e.g. `20261126021500_init`. */
  name: string
  sql: string
  /** Lowercase hex sha256 of the file's bytes, as Prisma stores it. */
  checksum: string
}

/** One database session: the advisory lock and the transactions below must share a connection. */
export interface SqlSession {
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>
  exec(script: string): Promise<void>
}

export class MigrationError extends Error {
  override name = 'MigrationError'
}

interface MigrationRow {
  migration_name: string
  checksum: string
  finished_at: Date | string | null
  rolled_back_at: Date | string | null
  logs: string | null
}

/** The same key `prisma migrate` locks on, so the app and Prisma's CLI never migrate at once. */
const ADVISORY_LOCK_KEY = 72707369

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`

/** Reads the migrations folder, sorted by name (the timestamp prefix orders them). */
export function readMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) throw new MigrationError(`migrations folder not found: ${dir}`)
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => {
      const bytes = readFileSync(path.join(dir, entry.name, 'migration.sql'))
      return { name: entry.name, sql: bytes.toString('utf8'), checksum: sha256Hex(bytes) }
    })
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** Prisma accepts a checksum of the file with its line endings switched, so a git checkout on Windows is not "edited". */
function sameContent(migration: Migration, storedChecksum: string): boolean {
  const stored = storedChecksum.toLowerCase()
  return (
    stored === migration.checksum ||
    stored === sha256Hex(migration.sql.replace(/\r\n/g, '\n')) ||
    stored === sha256Hex(migration.sql.replace(/\r?\n/g, '\r\n'))
  )
}

export interface MigrationStatus {
  pending: string[]
  failed: { name: string; logs: string | null }[]
  edited: string[]
  /** Applied in the database but absent from the folder: the database is newer than this code. */
  unknown: string[]
}

async function readRows(session: SqlSession): Promise<MigrationRow[] | null> {
  const [table] = await session.query<{ exists: boolean }>(
    `select to_regclass('"_prisma_migrations"') is not null as exists`,
  )
  if (!table?.exists) return null
  return session.query<MigrationRow>(
    `select migration_name, checksum, finished_at, rolled_back_at, logs
       from "_prisma_migrations" order by started_at, migration_name`,
  )
}

/** Compares the database's history with the migrations folder without changing anything. */
export async function migrationStatus(session: SqlSession, migrations: Migration[]): Promise<MigrationStatus> {
  const rows = (await readRows(session)) ?? []
  const live = rows.filter((row) => row.rolled_back_at === null)
  const applied = new Map(live.filter((row) => row.finished_at !== null).map((row) => [row.migration_name, row]))
  const local = new Set(migrations.map((m) => m.name))
  return {
    pending: migrations.filter((m) => !applied.has(m.name)).map((m) => m.name),
    failed: live.filter((row) => row.finished_at === null).map((row) => ({ name: row.migration_name, logs: row.logs })),
    edited: migrations
      .filter((m) => {
        const row = applied.get(m.name)
        return row !== undefined && !sameContent(m, row.checksum)
      })
      .map((m) => m.name),
    unknown: [...applied.keys()].filter((name) => !local.has(name)),
  }
}

/** Why the database cannot be migrated safely, or null when it can. */
export function blockingProblem(status: MigrationStatus): string | null {
  const failed = status.failed[0]
  if (failed) {
    return (
      `migration ${failed.name} failed earlier and was rolled back (${firstLine(failed.logs)}). ` +
      `Fix it, then mark that attempt resolved: UPDATE "_prisma_migrations" SET rolled_back_at = now() ` +
      `WHERE migration_name = '${failed.name}' AND finished_at IS NULL (or prisma migrate resolve --rolled-back ${failed.name}), and start again`
    )
  }
  if (status.edited.length > 0) {
    return (
      `applied migration(s) ${status.edited.join(', ')} no longer match their migration.sql (checksum mismatch). ` +
      `Applied migrations must not be edited: restore the file(s) and put the change in a new migration (npm run db:migration -- <name>)`
    )
  }
  return null
}

const firstLine = (text: string | null): string => (text ?? 'no log').split('\n')[0]?.slice(0, 300) ?? 'no log'

export interface ApplyResult {
  applied: string[]
  unknown: string[]
}

/**
 * Applies every pending migration, each in its own transaction, under Prisma's advisory lock.
 * A failure rolls the migration back, records the attempt the way Prisma does (a row without
 * `finished_at`, with the error in `logs`) and throws, so the next start refuses until an operator
 * has looked at it.
 * @throws MigrationError when a migration fails, failed before, or an applied one was edited.
 */
export async function applyMigrations(session: SqlSession, migrations: Migration[]): Promise<ApplyResult> {
  await session.query(`select pg_advisory_lock(${ADVISORY_LOCK_KEY})`)
  try {
    await session.exec(CREATE_TABLE)
    const status = await migrationStatus(session, migrations)
    const problem = blockingProblem(status)
    if (problem) throw new MigrationError(problem)

    const applied: string[] = []
    for (const migration of migrations.filter((m) => status.pending.includes(m.name))) {
      await applyOne(session, migration)
      applied.push(migration.name)
    }
    return { applied, unknown: status.unknown }
  } finally {
    await session.query(`select pg_advisory_unlock(${ADVISORY_LOCK_KEY})`)
  }
}

async function applyOne(session: SqlSession, migration: Migration): Promise<void> {
  const id = randomUUID()
  await session.exec('BEGIN')
  try {
    await session.query(
      `insert into "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       values ($1, $2, $3, now(), 0)`,
      [id, migration.checksum, migration.name],
    )
    await session.exec(migration.sql)
    await session.query(
      `update "_prisma_migrations" set finished_at = now(), applied_steps_count = 1 where id = $1`,
      [id],
    )
    await session.exec('COMMIT')
  } catch (error) {
    await session.exec('ROLLBACK')
    const message = error instanceof Error ? error.message : String(error)
    await session.query(
      `insert into "_prisma_migrations" (id, checksum, migration_name, started_at, logs, applied_steps_count)
       values ($1, $2, $3, now(), $4, 0)`,
      [id, migration.checksum, migration.name, message],
    )
    throw new MigrationError(`migration ${migration.name} failed and was rolled back: ${message}`)
  }
}
