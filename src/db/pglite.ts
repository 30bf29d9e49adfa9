import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { cube } from '@electric-sql/pglite/contrib/cube'
import { earthdistance } from '@electric-sql/pglite/contrib/earthdistance'

/**
 * Extensions the migrations create: cube and earthdistance, for nearest-first distance search.
 * Not pg_trgm: with cube loaded in the same PGlite 0.5.16 instance, about one start in ten
 * answered `'x' % 'x'` with no rows and then hung on the next trigram call, whatever the load
 * order (measured here; the shared notes saw the same). Text search uses tsvector instead.
 */
const EXTENSIONS = { cube, earthdistance }

/** `memory` → an in-memory database; anything else is a folder that keeps the data. */
export function pgliteDataDir(dataDir: string): string | undefined {
  if (dataDir === 'memory') return undefined
  const dir = path.resolve(dataDir, 'pglite')
  mkdirSync(dir, { recursive: true })
  return dir
}

/** Starts an embedded Postgres (2–9 s on a small machine: PGlite runs initdb in WebAssembly). */
export async function startPGlite(dataDir: string): Promise<PGlite> {
  const dir = pgliteDataDir(dataDir)
  return PGlite.create({ ...(dir ? { dataDir: dir } : {}), extensions: EXTENSIONS })
}
