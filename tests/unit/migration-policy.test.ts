import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { MIGRATIONS_DIR } from '../../src/db/database.js'

/**
 * Rolling deploys run the old and the new version on one schema, so migrations expand, and only a later
 * release contracts (docs/scaling.md). A statement that would break the previous version's queries must
 * say why it is safe, in a `-- contract:` line naming the release that stopped using what it removes.
 */

/** Written before the policy: single-instance releases, never deployed side by side. */
const BEFORE_THE_POLICY = new Set([
  '20261126021409_init',
  '20261126024348_auth',
  '20261126025535_idempotency',
  '20261126030230_journal',
  '20261126030501_assessments',
  '20261126030746_directory',
  '20261130100000_directory_index',
  '20261130104043_privacy',
])

const BREAKING: [RegExp, string][] = [
  [/\bDROP\s+(TABLE|COLUMN|VIEW|TYPE|FUNCTION)\b/i, 'drops something the previous version may use'],
  [/\bRENAME\b/i, 'renames something the previous version may use'],
  [/\bALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE\b/i, 'changes a column type'],
  [/\bSET\s+NOT\s+NULL\b/i, 'makes a column required that the previous version may not write'],
  // Within one clause of the statement (clauses are separated by commas): `DROP NOT NULL` on another column is not it.
  [/\bADD\s+COLUMN\b[^;,]*(?<!\bDROP\s+)\bNOT\s+NULL\b(?![^;,]*\bDEFAULT\b)/i, 'adds a required column without a default'],
]

/** What in one migration's SQL would break the previous version, unless it has a `-- contract:` line. */
function breakingStatements(sql: string): string[] {
  if (/^--\s*contract:/im.test(sql)) return []
  const code = sql.replace(/--.*$/gm, '')
  return BREAKING.filter(([pattern]) => pattern.test(code)).map(([, why]) => why)
}

describe('migrations in a rolling deploy', () => {
  it('tells a required column from one made optional beside it', () => {
    expect(breakingStatements('ALTER TABLE "t" ADD COLUMN "a" TEXT NOT NULL;')).toEqual(['adds a required column without a default'])
    expect(breakingStatements('ALTER TABLE "t" ADD COLUMN "a" TEXT NOT NULL DEFAULT \'x\';')).toEqual([])
    expect(breakingStatements('ALTER TABLE "t" ADD COLUMN "a" TEXT,\nALTER COLUMN "b" DROP NOT NULL;')).toEqual([])
  })

  it('never break the previous version without saying why it is safe', () => {
    const problems = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !BEFORE_THE_POLICY.has(entry.name))
      .flatMap((entry) => breakingStatements(readFileSync(path.join(MIGRATIONS_DIR, entry.name, 'migration.sql'), 'utf8')).map((why) => `${entry.name}: ${why}`))
    expect(problems).toEqual([])
  })

  it('recognises what breaks, and the contract line', () => {
    expect(breakingStatements('ALTER TABLE "users" DROP COLUMN "nickname";')).toHaveLength(1)
    expect(breakingStatements('ALTER TABLE "users" RENAME COLUMN "a" TO "b";')).toHaveLength(1)
    expect(breakingStatements('ALTER TABLE "users" ALTER COLUMN "a" SET DATA TYPE BIGINT;')).toHaveLength(1)
    expect(breakingStatements('ALTER TABLE "users" ADD COLUMN "a" TEXT NOT NULL;')).toHaveLength(1)
    expect(breakingStatements('ALTER TABLE "users" ADD COLUMN "a" TEXT NOT NULL DEFAULT \'x\';')).toEqual([])
    expect(breakingStatements('ALTER TABLE "users" ADD COLUMN "a" TEXT;\nCREATE INDEX "i" ON "users"("a");')).toEqual([])
    expect(breakingStatements('-- contract: 0.3 stopped reading nickname\nALTER TABLE "users" DROP COLUMN "nickname";')).toEqual([])
    expect(breakingStatements('-- we never DROP COLUMN here\nSELECT 1;')).toEqual([])
  })
})
