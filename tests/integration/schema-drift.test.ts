import { describe, expect, it } from 'vitest'
import { diffMigrationsToSchema, EMPTY_MIGRATION, SCHEMA_PATH } from '../../scripts/schema-engine.js'
import { MIGRATIONS_DIR } from '../../src/db/database.js'

describe('schema.prisma and the migrations folder', () => {
  it("agree: Prisma's engine finds nothing to migrate between them", async () => {
    const sql = await diffMigrationsToSchema(MIGRATIONS_DIR, SCHEMA_PATH)
    // On failure this shows the SQL a new migration needs: run `npm run db:migration -- <name>`.
    expect(sql.trim()).toBe(EMPTY_MIGRATION)
    // Replaying every migration into PGlite through the WebAssembly engine is CPU-bound: past 30 s on a busy shared machine.
  }, 120_000)
})
