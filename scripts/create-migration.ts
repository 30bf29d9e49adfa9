/**
 * `npm run db:migration -- <name>`: writes the next migration from the change to
 * prisma/schema.prisma, offline, like `prisma migrate dev --create-only` (no database touched).
 * Review the SQL, then commit it with the schema change; the app applies it at start.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { MIGRATIONS_DIR } from '../src/db/database.js'
import { diffMigrationsToSchema, isEmptyMigration, MIGRATION_LOCK, SCHEMA_PATH as SCHEMA } from './schema-engine.js'

const name = process.argv[2]
if (!name || !/^[a-z0-9][a-z0-9_]{0,80}$/.test(name)) {
  console.error('usage: npm run db:migration -- <name>   (lowercase letters, digits and _; e.g. add_journal_tags)')
  process.exit(2)
}

mkdirSync(MIGRATIONS_DIR, { recursive: true })
const lockPath = path.join(MIGRATIONS_DIR, 'migration_lock.toml')
if (!existsSync(lockPath)) writeFileSync(lockPath, MIGRATION_LOCK)

const sql = await diffMigrationsToSchema(MIGRATIONS_DIR, SCHEMA)
if (isEmptyMigration(sql)) {
  console.log('schema.prisma and the migrations already agree: nothing to write.')
  process.exit(0)
}
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)
const dir = path.join(MIGRATIONS_DIR, `${stamp}_${name}`)
mkdirSync(dir)
writeFileSync(path.join(dir, 'migration.sql'), sql)
console.log(`wrote ${path.relative(process.cwd(), dir)}/migration.sql:\n\n${sql}`)
