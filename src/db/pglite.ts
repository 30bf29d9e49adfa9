import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { cube } from '@electric-sql/pglite/contrib/cube'
import { earthdistance } from '@electric-sql/pglite/contrib/earthdistance'
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm'

/**
 * Extensions the migrations create, in the order PGlite must load them: with pg_trgm
 * loaded before cube, PGlite 0.5.16 sometimes answers `%` with no rows and then hangs
 * on the next trigram call (see shared notes, prisma-offline §4). Keep this order here
 * and in the init migration.
 */
const EXTENSIONS = { cube, earthdistance, pg_trgm }

/** `memory` → an in-memory database; anything else is a folder that keeps the data. */
export function pgliteDataDir(dataDir: string): string | undefined {
  if (dataDir === 'memory') return undefined
  const dir = path.resolve(dataDir, 'pglite')
  mkdirSync(dir, { recursive: true })
  return dir
}

/** Starts an embedded Postgres (5–9 s on a small machine: PGlite runs initdb in WebAssembly). */
export async function startPGlite(dataDir: string): Promise<PGlite> {
  const dir = pgliteDataDir(dataDir)
  const db = await PGlite.create({ ...(dir ? { dataDir: dir } : {}), extensions: EXTENSIONS })
  return db
}

/**
 * Fails fast, instead of hanging later, when the trigram extension is in the broken state
 * described above. Runs once the migrations have created the extension.
 */
export async function checkTrigramExtension(query: (sql: string) => Promise<{ ok: boolean }[]>, timeoutMs = 5000): Promise<void> {
  const [installed] = await query(`select exists (select 1 from pg_extension where extname = 'pg_trgm') as ok`)
  if (installed?.ok !== true) return
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('embedded database: pg_trgm smoke test timed out')), timeoutMs)
  })
  try {
    const rows = await Promise.race([query(`select 'therapy' % 'therapy' as ok`), timeout])
    if (rows[0]?.ok !== true) throw new Error('embedded database: pg_trgm smoke test returned no match')
  } finally {
    clearTimeout(timer)
  }
}
