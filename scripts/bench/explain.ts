/**
 * `tsx scripts/bench/explain.ts [shape query…]`: EXPLAIN (ANALYZE, BUFFERS) of the SQL the API runs
 * for each benchmark shape (its page and, since the shapes ask for all facets, its facet counts),
 * against the Postgres in DATABASE_URL (seed it first).
 */
import { loadConfig } from '../../src/config.js'
import { openPostgres } from '../../src/db/database.js'
import { TherapistSearchQuerySchema } from '../../src/modules/directory/directory-schemas.js'
import { createDirectoryService } from '../../src/modules/directory/directory-service.js'
import { resolveSearch } from '../../src/modules/directory/search/search-request.js'
import { searchStatements, type SqlStatement } from '../../src/modules/directory/search/search-sql.js'
import { SEARCH_SHAPES } from './shapes.js'

// Signs and encrypts nothing, so it needs none of the service's keys.
const url = loadConfig(process.env, { sharedKeys: 'optional' }).DATABASE_URL
if (!url) throw new Error('set DATABASE_URL')
const db = openPostgres(url)
const directory = createDirectoryService({ db })
const queries = process.argv.length > 2 ? process.argv.slice(2).map((query) => ({ name: query, query })) : SEARCH_SHAPES
for (const shape of queries) {
  const query = TherapistSearchQuerySchema.parse(Object.fromEntries(new URLSearchParams(shape.query)))
  const statements = searchStatements(await resolveSearch(query, await directory.vocabulary()))
  const parts: [string, SqlStatement | null][] = [['page', statements.page], ['facets', statements.facets]]
  for (const [part, statement] of parts) {
    if (!statement) continue
    for (let i = 0; i < 3; i += 1) await db.query(statement.sql, statement.params)
    const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${statement.sql}`, statement.params)
    console.log(`\n=== ${shape.name} — ${part}\n${plan.map((row) => row['QUERY PLAN']).join('\n')}`)
  }
}
await db.close()
