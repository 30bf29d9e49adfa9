import { afterEach, describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/database.js'
import { MIGRATIONS_DIR } from '../../src/db/database.js'
import type { DemoDataLoader } from '../../src/db/demo-data.js'
import { readMigrations } from '../../src/db/migrations.js'
import { prepareDatabase } from '../../src/db/prepare.js'
import { capturingLogger } from '../helpers/app.js'
import { onPostgres, type ScratchDatabase, scratchDatabase, testConfig } from '../helpers/database.js'

/** A loader that records each run in system_state, so the test sees it ran against the real database. */
function countingLoader(): DemoDataLoader & { runs: number } {
  const loader = {
    name: 'counting',
    runs: 0,
    async load(db: Database) {
      loader.runs += 1
      await db.prisma.systemState.upsert({
        where: { key: 'demo_probe' },
        create: { key: 'demo_probe', value: { runs: loader.runs } },
        update: { value: { runs: loader.runs } },
      })
    },
  }
  return loader
}

describe('prepareDatabase', () => {
  let scratch: ScratchDatabase | undefined
  afterEach(async () => {
    await scratch?.destroy()
    scratch = undefined
  })
  const log = capturingLogger('silent').logger

  it('migrates, then loads demo data only on the first start of an empty embedded database', async () => {
    scratch = await scratchDatabase()
    const loader = countingLoader()
    const config = testConfig({ DEMO_DATA: 'auto' })
    const first = await prepareDatabase(scratch.db, config, log, { demoLoaders: [loader] })
    expect(first.appliedMigrations).toEqual(readMigrations(MIGRATIONS_DIR).map((m) => m.name))
    const second = await prepareDatabase(scratch.db, config, log, { demoLoaders: [loader] })
    expect(second.appliedMigrations).toEqual([])

    if (onPostgres()) {
      // Never on Postgres unless asked (npm run db:seed).
      expect(first.demoDataLoaded).toBe(false)
      expect(loader.runs).toBe(0)
    } else {
      expect(first.demoDataLoaded).toBe(true)
      expect(second.demoDataLoaded).toBe(false)
      expect(loader.runs).toBe(1)
      const marker = await scratch.db.prisma.systemState.findUnique({ where: { key: 'demo_data' } })
      expect(marker?.value).toMatchObject({ loaders: ['counting'] })
    }
  })

  it('loads no demo data when DEMO_DATA=off', async () => {
    scratch = await scratchDatabase()
    const loader = countingLoader()
    const result = await prepareDatabase(scratch.db, testConfig({ DEMO_DATA: 'off' }), log, { demoLoaders: [loader] })
    expect(result.demoDataLoaded).toBe(false)
    expect(loader.runs).toBe(0)
  })

  it('with MIGRATE_ON_START=false, applies nothing and leaves readiness to report the pending migrations', async () => {
    scratch = await scratchDatabase()
    const result = await prepareDatabase(scratch.db, testConfig({ MIGRATE_ON_START: 'false', DEMO_DATA: 'off' }), log, { demoLoaders: [] })
    expect(result.appliedMigrations).toEqual([])
    const [table] = await scratch.db.query<{ exists: boolean }>(`select to_regclass('system_state') is not null as exists`)
    expect(table?.exists).toBe(false)
  })
})
