import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PrismaPg } from '@prisma/adapter-pg'
import { afterEach, describe, expect, it } from 'vitest'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { MIGRATIONS_DIR } from '../../src/db/database.js'
import { applyMigrations, type Migration, MigrationError, migrationStatus, readMigrations } from '../../src/db/migrations.js'
import { sha256Hex } from '../../src/lib/hash.js'
import { ENGINE_FILTERS, openPrismaEngine, readMigrationList } from '../../scripts/schema-engine.js'
import { onPostgres, type ScratchDatabase, scratchDatabase } from '../helpers/database.js'

const shipped = readMigrations(MIGRATIONS_DIR)

interface Row {
  id: string
  checksum: string
  migration_name: string
  finished_at: Date | null
  rolled_back_at: Date | null
  logs: string | null
  applied_steps_count: number
}

const rowsOf = (scratch: ScratchDatabase) =>
  scratch.db.query<Row>(`select * from "_prisma_migrations" order by started_at, migration_name`)

describe('migrations', () => {
  let scratch: ScratchDatabase | undefined
  afterEach(async () => {
    await scratch?.destroy()
    scratch = undefined
  })

  it('applies every shipped migration once and records it as prisma migrate deploy does', async () => {
    scratch = await scratchDatabase()
    const [before] = await scratch.db.query<{ exists: boolean }>(`select to_regclass('"_prisma_migrations"') is not null as exists`)
    expect(before?.exists).toBe(false)
    const first = await scratch.db.withSession((s) => applyMigrations(s, shipped))
    expect(first.applied).toEqual(shipped.map((m) => m.name))

    const rows = await rowsOf(scratch)
    expect(rows).toHaveLength(shipped.length)
    for (const [i, row] of rows.entries()) {
      const file = readFileSync(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'))
      expect(row.migration_name).toBe(shipped[i]?.name)
      expect(row.checksum).toBe(sha256Hex(file))
      expect(row.finished_at).not.toBeNull()
      expect(row.rolled_back_at).toBeNull()
      expect(row.logs).toBeNull()
      expect(row.applied_steps_count).toBe(1)
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/)
    }

    const second = await scratch.db.withSession((s) => applyMigrations(s, shipped))
    expect(second.applied).toEqual([])
    // Nothing recorded twice: the same rows as after the first run.
    expect(await rowsOf(scratch)).toEqual(rows)
  })

  it("leaves a history that Prisma's own engine accepts: nothing edited, failed or left to apply", async () => {
    scratch = await scratchDatabase()
    await scratch.db.withSession((s) => applyMigrations(s, shipped))
    const factory = onPostgres() ? new PrismaPg({ connectionString: scratch.url ?? '' }) : new PrismaPGlite(scratch.pglite!)
    const engine = await openPrismaEngine(factory)
    try {
      const migrationsList = readMigrationList(MIGRATIONS_DIR)
      const diagnosis = await engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: ENGINE_FILTERS })
      expect(diagnosis).toMatchObject({ editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null })
      const deploy = await engine.applyMigrations({ migrationsList, filters: ENGINE_FILTERS })
      expect(deploy.appliedMigrationNames).toEqual([])
    } finally {
      engine.free()
    }
  })

  it('refuses to run when an applied migration was edited (checksum mismatch)', async () => {
    scratch = await scratchDatabase()
    await scratch.db.withSession((s) => applyMigrations(s, shipped))
    const edited: Migration[] = shipped.map((m, i) =>
      i === 0 ? { ...m, sql: `${m.sql}\n-- edited`, checksum: sha256Hex(`${m.sql}\n-- edited`) } : m,
    )
    await expect(scratch.db.withSession((s) => applyMigrations(s, edited))).rejects.toThrow(
      new RegExp(`${shipped[0]?.name}.*checksum mismatch`),
    )
    const status = await scratch.db.withSession((s) => migrationStatus(s, edited))
    expect(status.edited).toEqual([shipped[0]?.name])
  })

  it('accepts a file whose only change is CRLF line endings', async () => {
    scratch = await scratchDatabase()
    await scratch.db.withSession((s) => applyMigrations(s, shipped))
    const crlf = shipped.map((m) => ({ ...m, sql: m.sql.replace(/\n/g, '\r\n'), checksum: sha256Hex(m.sql.replace(/\n/g, '\r\n')) }))
    await expect(scratch.db.withSession((s) => applyMigrations(s, crlf))).resolves.toMatchObject({ applied: [] })
  })

  it('rolls back a failing migration, records the failure and refuses the next start', async () => {
    scratch = await scratchDatabase()
    const broken: Migration = {
      name: '29991231000000_broken',
      sql: 'CREATE TABLE "half_done" (id int);\nSELECT no_such_function();',
      checksum: sha256Hex('x'),
    }
    await expect(scratch.db.withSession((s) => applyMigrations(s, [...shipped, broken]))).rejects.toThrow(
      /29991231000000_broken failed and was rolled back: .*no_such_function/,
    )
    // The migrations before it stay applied; nothing of the broken one remains.
    const [table] = await scratch.db.query<{ exists: boolean }>(`select to_regclass('half_done') is not null as exists`)
    expect(table?.exists).toBe(false)
    const rows = await rowsOf(scratch)
    expect(rows.filter((r) => r.finished_at !== null).map((r) => r.migration_name)).toEqual(shipped.map((m) => m.name))
    const failed = rows.find((r) => r.migration_name === broken.name)
    expect(failed).toMatchObject({ finished_at: null, rolled_back_at: null, applied_steps_count: 0 })
    expect(failed?.logs).toMatch(/no_such_function/)

    const fixed = { ...broken, sql: 'CREATE TABLE "half_done" (id int);' }
    await expect(scratch.db.withSession((s) => applyMigrations(s, [...shipped, fixed]))).rejects.toThrow(MigrationError)
    await expect(scratch.db.withSession((s) => applyMigrations(s, [...shipped, fixed]))).rejects.toThrow(/failed earlier.*rolled_back_at/)

    // Once an operator marks the attempt rolled back, the fixed migration applies.
    await scratch.db.query(`update "_prisma_migrations" set rolled_back_at = now() where migration_name = $1 and finished_at is null`, [broken.name])
    await expect(scratch.db.withSession((s) => applyMigrations(s, [...shipped, fixed]))).resolves.toMatchObject({ applied: [broken.name] })
  })

  it.runIf(onPostgres())('applies each migration once when two instances start together', async () => {
    scratch = await scratchDatabase()
    const db = scratch.db
    const results = await Promise.all([
      db.withSession((s) => applyMigrations(s, shipped)),
      db.withSession((s) => applyMigrations(s, shipped)),
    ])
    expect([...results[0].applied, ...results[1].applied].sort()).toEqual(shipped.map((m) => m.name).sort())
    expect(await rowsOf(scratch)).toHaveLength(shipped.length)
  })

  it('reads the migrations folder sorted, with sha256 checksums of the files', () => {
    expect(shipped.length).toBeGreaterThan(0)
    expect(shipped.map((m) => m.name)).toEqual([...shipped.map((m) => m.name)].sort())
    for (const m of shipped) expect(m.name).toMatch(/^\d{14}_[a-z0-9_]+$/)
    expect(() => readMigrations(mkdtempSync(path.join(tmpdir(), 'tp-'))+ '/missing')).toThrow(MigrationError)
  })
})
