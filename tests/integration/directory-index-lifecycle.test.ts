import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { seedTherapists } from '../../src/modules/directory/directory-seed.js'
import { ReadinessSchema } from '../../src/modules/operations/operations-schemas.js'
import { clientToken } from '../helpers/auth.js'
import { onPostgres, type ScratchDatabase, testConfig } from '../helpers/database.js'
import { difference, search } from '../helpers/differential.js'
import { type CuratorClient, curatorApp, indexSettled, migratedScratch, searchesByEngine } from '../helpers/directory.js'

/**
 * The directory index's life in one instance: what /readyz and /metrics say of it, which engine
 * answers which search, the build (readiness waits for it, at most DIRECTORY_INDEX_READY_WAIT_SECONDS),
 * the size bound (DIRECTORY_INDEX_MAX_MB), and a lost change feed.
 */

const THERAPISTS = 40

type Readiness = { status: string; directoryIndex?: { state: string; therapists: number; megabytes: number; builtInMs: number | null; reason?: string } }

const readyz = async (app: Pick<CuratorClient, 'inject'>) => {
  const res = await app.inject({ method: 'GET', url: '/readyz' })
  return { status: res.statusCode, body: res.json<Readiness>() }
}

const metric = async (app: CuratorClient, name: string) => {
  const text = (await app.raw.inject({ method: 'GET', url: '/metrics' })).body
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  return match ? Number(match[1]) : undefined
}

/** Which engine answered one search (from the metrics), and its status. */
async function engineOf(app: CuratorClient, url: string): Promise<{ status: number; engine: 'index' | 'sql' | 'neither' }> {
  const before = await searchesByEngine(app.raw)
  const res = await app.inject({ method: 'GET', url })
  const after = await searchesByEngine(app.raw)
  return { status: res.statusCode, engine: after.index > before.index ? 'index' : after.sql > before.sql ? 'sql' : 'neither' }
}

async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('directory index lifecycle', () => {
  let scratch: ScratchDatabase
  const apps: CuratorClient[] = []
  const open = async (config: Record<string, string>) => {
    const app = await curatorApp(scratch.db, config)
    apps.push(app)
    return app
  }
  /** An instance without the index, for writes the index under test must pick up from the feed. */
  let writerApp: CuratorClient | undefined
  const writer = async () => (writerApp ??= await open({ DIRECTORY_INDEX: 'off', FACET_CACHE_SECONDS: '0' }))

  beforeAll(async () => {
    scratch = await migratedScratch()
    await seedTherapists(scratch.db, { count: THERAPISTS, seed: 99 })
  })

  afterAll(async () => {
    for (const app of apps) await app.raw.close()
    await scratch?.destroy()
  })

  it('reports the index in /readyz (state, therapists, megabytes, build time) and in gauges', async () => {
    const app = await open({ DIRECTORY_INDEX: 'memory' })
    const { status, body } = await readyz(app)
    expect(status).toBe(200)
    expect(ReadinessSchema.parse(body)).toEqual(body)
    expect(body.directoryIndex).toEqual({ state: 'ready', therapists: THERAPISTS, megabytes: expect.any(Number), builtInMs: expect.any(Number) })
    expect(body.directoryIndex?.megabytes).toBeGreaterThan(0)
    expect(await metric(app, 'therapath_directory_index_therapists')).toBe(THERAPISTS)
    expect(await metric(app, 'therapath_directory_index_bytes')).toBeGreaterThan(0)
  })

  it('counts each search under the engine that answered it: phrases and weights go to SQL even with the index ready', async () => {
    const app = await open({ DIRECTORY_INDEX: 'memory' })
    for (const url of ['/v1/therapists', '/v1/therapists?q=grief', '/v1/therapists?q=%22grief%22', '/v1/therapists?q=anxiety+-grief+or+trauma', '/v1/therapists?modality=cbt&near=40.7,-74&radiusKm=500']) {
      expect(await engineOf(app, url), url).toEqual({ status: 200, engine: 'index' })
    }
    // Quoted words are a phrase (<->): positions, which the index does not keep.
    for (const url of ['/v1/therapists?q=%22grief+counseling%22', '/v1/therapists?q=%22grief+and+loss%22+anxiety', '/v1/therapists?q=self-esteem']) {
      expect(await engineOf(app, url), url).toEqual({ status: 200, engine: 'sql' })
    }
    // A refused search is answered by neither.
    expect(await engineOf(app, '/v1/therapists?modality=nonsense')).toEqual({ status: 400, engine: 'neither' })
  })

  it('with DIRECTORY_INDEX=off: no directoryIndex in /readyz, no index gauges, every search answered by SQL', async () => {
    const app = await open({ DIRECTORY_INDEX: 'off' })
    const { status, body } = await readyz(app)
    expect(status).toBe(200)
    expect(body).not.toHaveProperty('directoryIndex')
    expect(await metric(app, 'therapath_directory_index_therapists')).toBeUndefined()
    for (const url of ['/v1/therapists', '/v1/therapists?q=grief', '/v1/therapists?q=%22grief+counseling%22']) expect(await engineOf(app, url), url).toEqual({ status: 200, engine: 'sql' })
  })

  /**
   * Row numbers only grow (a sequence), and the index maps them to slots with an array as long as the
   * highest one: a directory whose numbers reach five million makes that array alone 20 MB, past the
   * smallest DIRECTORY_INDEX_MAX_MB (16), without the seconds a genuinely large directory takes to load.
   * Adds that therapist (through `app`, so its index sees the write) unless it is there already.
   */
  const FAR_ROW = 5_000_000
  async function ensureFarRowNumber(app: CuratorClient): Promise<void> {
    const [row] = await scratch.db.query<{ high: number }>(`SELECT max(row_no)::int AS high FROM therapist`)
    if ((row?.high ?? 0) >= FAR_ROW) return
    await scratch.db.query(`SELECT setval(pg_get_serial_sequence('therapist', 'row_no'), $1::int8)`, [FAR_ROW - 1])
    const res = await app.inject({
      method: 'POST',
      url: '/v1/therapists',
      payload: { name: `Numbered ${FAR_ROW}`, license: { type: 'lcsw', state: 'CA' }, formats: ['telehealth'], acceptingNewClients: true, bio: 'Late arrival, grief work.' },
    })
    expect(res.statusCode, res.body).toBe(201)
  }

  it('drops an index that grows past DIRECTORY_INDEX_MAX_MB through live changes, as it refuses to build one', async () => {
    const app = await open({ DIRECTORY_INDEX: 'memory', DIRECTORY_INDEX_MAX_MB: '16' })
    expect((await readyz(app)).body.directoryIndex?.state).toBe('ready')
    await ensureFarRowNumber(app)
    const after = (await readyz(app)).body.directoryIndex
    // Either dropped (off, with the reason) or still within the bound; never past it while in use.
    expect(after?.state === 'off' || (after?.megabytes ?? 0) <= 16, JSON.stringify(after)).toBe(true)
  })

  it('is off when a build would pass DIRECTORY_INDEX_MAX_MB: /readyz says why, and SQL answers every search', async () => {
    await ensureFarRowNumber(await writer())
    const app = await open({ DIRECTORY_INDEX: 'memory', DIRECTORY_INDEX_MAX_MB: '16' })
    const { status, body } = await readyz(app)
    expect(status).toBe(200)
    expect(ReadinessSchema.parse(body)).toEqual(body)
    expect(body.directoryIndex).toMatchObject({ state: 'off', reason: expect.stringMatching(/DIRECTORY_INDEX_MAX_MB \(16 MB\)/) })
    for (const url of ['/v1/therapists?q=grief', '/v1/therapists?sort=fee&limit=3']) expect(await engineOf(app, url), url).toEqual({ status: 200, engine: 'sql' })
    const hits = (await app.inject({ method: 'GET', url: '/v1/therapists?q=late+arrival' })).json<{ data: { name: string }[] }>().data
    expect(hits.map((hit) => hit.name)).toEqual(['Numbered 5000000'])
  })

  it('holds readiness while the first build runs, for at most DIRECTORY_INDEX_READY_WAIT_SECONDS', async () => {
    await ensureFarRowNumber(await writer())
    const waiting = await buildApp(testConfig({ DIRECTORY_INDEX: 'memory' }), { db: scratch.db })
    const impatient = await buildApp(testConfig({ DIRECTORY_INDEX: 'memory', DIRECTORY_INDEX_READY_WAIT_SECONDS: '0' }), { db: scratch.db })
    try {
      // The build starts when the app is ready; until it ends the part says `building`, and holds readiness only within the wait.
      expect(waiting.readinessParts.get('directoryIndex')?.check()).toMatchObject({ ready: false, report: { state: 'building', therapists: 0 } })
      expect(impatient.readinessParts.get('directoryIndex')?.check()).toMatchObject({ ready: true, report: { state: 'building' } })
      await waiting.ready()
      await eventually('the first build ends', async () => (await waiting.inject({ method: 'GET', url: '/readyz' })).statusCode === 200)
      expect((await readyz(waiting)).body.directoryIndex).toMatchObject({ state: 'ready', therapists: THERAPISTS + 1 })
    } finally {
      await waiting.close()
      await impatient.close()
    }
  })

  // On the embedded database the build's statements keep the event loop busy until it ends, so only
  // Postgres lets a request in while it runs. With five million row numbers the build reads 250 chunks,
  // long enough to be seen.
  it.runIf(onPostgres())('answers /readyz with 503 while the first build runs, 200 once built; searches meanwhile use SQL', async () => {
    await ensureFarRowNumber(await writer())
    const waiting = await buildApp(testConfig({ DIRECTORY_INDEX: 'memory' }), { db: scratch.db })
    const impatient = await buildApp(testConfig({ DIRECTORY_INDEX: 'memory', DIRECTORY_INDEX_READY_WAIT_SECONDS: '0' }), { db: scratch.db })
    try {
      await waiting.ready()
      const first = await waiting.inject({ method: 'GET', url: '/readyz' })
      expect(first.statusCode, first.body).toBe(503)
      expect(first.json<{ code: string }>().code).toBe('not_ready')
      await eventually('the first build ends', async () => (await waiting.inject({ method: 'GET', url: '/readyz' })).statusCode === 200)

      const token = await clientToken(impatient, ['directory:read'])
      await impatient.ready()
      const client: CuratorClient = { raw: impatient, inject: (options) => impatient.inject({ ...options, headers: { authorization: `Bearer ${token}` } }) }
      const early = await readyz(client)
      expect(early.status).toBe(200)
      expect(early.body.directoryIndex?.state).toBe('building')
      expect(await engineOf(client, '/v1/therapists?q=grief')).toEqual({ status: 200, engine: 'sql' })
      await eventually('the impatient instance’s build ends', async () => (await readyz(client)).body.directoryIndex?.state === 'ready')
      expect(await engineOf(client, '/v1/therapists?q=grief')).toEqual({ status: 200, engine: 'index' })
    } finally {
      await waiting.close()
      await impatient.close()
    }
  })

  it.runIf(onPostgres())('holds, once built, everything written while it was being built', async () => {
    const sql = await writer()
    const ids = (await scratch.db.query<{ id: string }>(`SELECT id FROM therapist WHERE deleted_at IS NULL ORDER BY row_no`)).map((row) => row.id)
    const app = await buildApp(testConfig({ DIRECTORY_INDEX: 'memory' }), { db: scratch.db })
    try {
      await app.ready()
      // The build reads 250 chunks of row numbers meanwhile.
      for (const [i, id] of ids.entries()) {
        const payload = i % 7 === 0 ? undefined : { feeMin: 40 + i, feeMax: 400, acceptingNewClients: i % 2 === 0, bio: `Rewritten during the build, midbuild${i % 3}.` }
        const res = payload ? await sql.inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload }) : await sql.inject({ method: 'DELETE', url: `/v1/therapists/${id}` })
        expect(res.statusCode, res.body).toBeLessThan(300)
      }
      await indexSettled(app)
      const token = await clientToken(app, ['directory:read'])
      const client: CuratorClient = { raw: app, inject: (options) => app.inject({ ...options, headers: { authorization: `Bearer ${token}` } }) }
      for (const url of ['/v1/therapists?limit=100', '/v1/therapists?q=midbuild1&limit=100', '/v1/therapists?sort=fee&acceptingNewClients=true&limit=100', '/v1/therapists?maxFee=60&limit=100']) {
        expect(difference((await search(client, url)).comparable, (await search(sql, url)).comparable), url).toBe('')
      }
      expect((await searchesByEngine(app)).sql).toBe(0)
    } finally {
      await app.close()
    }
  })

  it.runIf(onPostgres())('sets the index aside when its change feed is lost (SQL answers), then rebuilds it with what was written meanwhile', async () => {
    const app = await open({ DIRECTORY_INDEX: 'memory' })
    const sql = await writer()
    const [listener] = await scratch.db.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN "therapist_changes"' ORDER BY backend_start DESC LIMIT 1`,
    )
    expect(listener).toBeDefined()
    // Every instance listens; cutting all of them is the simplest way to be sure this one's is cut.
    await scratch.db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN "therapist_changes"'`)
    await eventually('the index is set aside', async () => (await readyz(app)).body.directoryIndex?.state !== 'ready')
    expect(await engineOf(app, '/v1/therapists?q=grief')).toEqual({ status: 200, engine: 'sql' })
    const created = await sql.inject({
      method: 'POST',
      url: '/v1/therapists',
      payload: { name: 'Written While Deaf', license: { type: 'lcsw', state: 'CA' }, formats: ['telehealth'], acceptingNewClients: true, bio: 'Unheardof work.' },
    })
    expect(created.statusCode, created.body).toBe(201)
    await eventually('the index is rebuilt', async () => (await readyz(app)).body.directoryIndex?.state === 'ready')
    const found = await app.inject({ method: 'GET', url: '/v1/therapists?q=unheardof' })
    expect(found.json<{ data: { name: string }[] }>().data.map((hit) => hit.name)).toEqual(['Written While Deaf'])
    expect(await engineOf(app, '/v1/therapists?q=unheardof')).toEqual({ status: 200, engine: 'index' })
  })
})
