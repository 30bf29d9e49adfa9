import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ScratchDatabase } from '../helpers/database.js'
import { type Answer, difference, search } from '../helpers/differential.js'
import { CENTER, type CuratorClient, curatorApp, migratedScratch, pointAt, searchesByEngine, type TherapistInput } from '../helpers/directory.js'

/**
 * Several instances on one database, each with its own directory index: a write through one is in
 * its own very next search (read-your-writes: the write waits for the index), and reaches every other
 * instance's index through the change feed; counts included. SQL alone (a third instance) says what
 * the right answer is. Other instances are polled until they agree, with a generous limit: how soon
 * is not asserted, only that it happens.
 */

const ndjson = (lines: object[]) => lines.map((line) => JSON.stringify(line)).join('\n')

/** Polls `probe` until it returns true; fails with `what` after `timeoutMs` (a limit for a broken feed, not a speed requirement). */
async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await probe()) return
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A search and which engine answered it (from the instance's metrics). */
async function searchWithEngine(app: CuratorClient, url: string): Promise<Answer & { engine: 'index' | 'sql' | 'neither' }> {
  const before = await searchesByEngine(app.raw)
  const answer = await search(app, url)
  const after = await searchesByEngine(app.raw)
  return { ...answer, engine: after.index > before.index ? 'index' : after.sql > before.sql ? 'sql' : 'neither' }
}

const ids = (answer: Answer) => (answer.comparable.data ?? []).map((hit) => (hit as { id: string }).id)

describe('directory index across instances sharing a database', () => {
  let scratch: ScratchDatabase
  let a: CuratorClient
  let b: CuratorClient
  let sql: CuratorClient
  /** A word no generated bio has, so each test's searches see only its own therapists. */
  let marker: string

  const therapist = (over: Partial<TherapistInput> = {}): TherapistInput => ({
    name: 'Consistent Cole',
    license: { type: 'lcsw', state: 'CA' },
    formats: ['in_person', 'telehealth'],
    acceptingNewClients: true,
    bio: `Works with ${marker} clients on anxiety.`,
    modalities: ['cbt'],
    specialties: ['anxiety'],
    offices: [{ street: '1 Feed St', city: 'San Francisco', state: 'CA', postalCode: '94110', ...pointAt(3, 45) }],
    feeMin: 120,
    feeMax: 150,
    ...over,
  })

  beforeAll(async () => {
    scratch = await migratedScratch()
    a = await curatorApp(scratch.db, { DIRECTORY_INDEX: 'memory' })
    b = await curatorApp(scratch.db, { DIRECTORY_INDEX: 'memory' })
    sql = await curatorApp(scratch.db, { DIRECTORY_INDEX: 'off', FACET_CACHE_SECONDS: '0' })
  })

  afterAll(async () => {
    for (const app of [a, b, sql]) await app?.raw.close()
    await scratch?.destroy()
  })

  const newMarker = () => {
    marker = `zq${randomUUID().replaceAll('-', '').slice(0, 10).replace(/\d/g, (d) => 'abcdefghij'[Number(d)] ?? 'x')}`
    return marker
  }

  /** What SQL alone answers now: the truth an instance's index must reach. */
  const truth = (url: string) => search(sql, url)

  /** Polls `app` until its answer to `url` is exactly SQL's, then checks the index gave it. */
  async function reaches(app: CuratorClient, url: string, label: string): Promise<void> {
    await eventually(`${label}: ${url} as SQL answers it`, async () => difference((await search(app, url)).comparable, (await truth(url)).comparable) === '')
    const answer = await searchWithEngine(app, url)
    expect(answer.engine, `${label}: answered by the index`).toBe('index')
    expect(difference(answer.comparable, (await truth(url)).comparable)).toBe('')
  }

  /** The writer's very next search already has the write, from its index. */
  async function readsOwnWrite(app: CuratorClient, url: string, expectIds: string[]): Promise<void> {
    const answer = await searchWithEngine(app, url)
    expect(answer.engine).toBe('index')
    expect(ids(answer)).toEqual(expectIds)
    expect(difference(answer.comparable, (await truth(url)).comparable)).toBe('')
  }

  it('creates, patches, removes and restores through one instance: the writer reads each at once, the other instance soon, counts included', async () => {
    newMarker()
    const url = `/v1/therapists?q=${marker}`
    const created = await a.inject({ method: 'POST', url: '/v1/therapists', payload: therapist({ externalId: `ext-${marker}` }) })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json<{ id: string }>().id
    await readsOwnWrite(a, url, [id])
    await reaches(b, url, 'create')

    // Patch: new modality, specialty, fee, name and office; the old values stop matching, counts move.
    const patched = await a.inject({
      method: 'PATCH',
      url: `/v1/therapists/${id}`,
      payload: { name: 'Renamed Rae', modalities: ['emdr', 'ifs'], specialties: ['trauma'], feeMin: 300, feeMax: 300, offices: [{ street: '2 Feed St', city: 'Oakland', state: 'CA', postalCode: '94607', ...pointAt(15, 90) }] },
    })
    expect(patched.statusCode, patched.body).toBe(200)
    for (const query of [`${url}&modality=emdr`, `${url}&specialty=trauma&maxFee=300`, `${url}&city=oakland`, `/v1/therapists?q=renamed+${marker}`]) await readsOwnWrite(a, query, [id])
    for (const query of [`${url}&modality=cbt`, `${url}&maxFee=299`, `${url}&city=san+francisco`, `${url}&specialty=anxiety`]) await readsOwnWrite(a, query, [])
    for (const query of [url, `${url}&modality=emdr`, `${url}&modality=cbt`, `${url}&near=${CENTER.latitude},${CENTER.longitude}&radiusKm=10`]) {
      await reaches(b, query, 'patch')
    }

    // Remove: gone from the index (and from every count) at once for the writer, soon for the other.
    expect((await a.inject({ method: 'DELETE', url: `/v1/therapists/${id}` })).statusCode).toBe(204)
    await readsOwnWrite(a, url, [])
    await reaches(b, url, 'delete')
    const facets = (await search(b, `${url}&facets=modality`)).comparable.facets as { modality: { value: string; count: number }[] }
    expect(facets.modality.every((row) => row.count === 0)).toBe(true)

    // An import of the same externalId brings it back with the imported content.
    const report = await a.inject({
      method: 'POST',
      url: '/v1/therapists/import',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: ndjson([therapist({ externalId: `ext-${marker}`, name: 'Back Again', modalities: ['dbt'] })]),
    })
    expect(report.statusCode, report.body).toBe(200)
    expect(report.json<{ results: { status: string; id: string }[] }>().results[0]).toMatchObject({ status: 'updated', id })
    await readsOwnWrite(a, `${url}&modality=dbt`, [id])
    await reaches(b, `${url}&modality=dbt`, 'restore')
    await reaches(b, url, 'restore')
  })

  it('works the other way round, and for more therapists imported at once than the index had room for (it grows)', async () => {
    // The instances were built on an empty directory: room for 1,024 therapists. 1,100 in one import
    // also take more than one notification (800 row numbers each) and three write statements.
    newMarker()
    const url = `/v1/therapists?q=${marker}&limit=100`
    const lines = Array.from({ length: 1100 }, (_, i) =>
      therapist({ externalId: `bulk-${marker}-${i}`, name: `Bulk ${String(i).padStart(4, '0')}`, feeMin: 50 + (i % 200), feeMax: 400, modalities: i % 3 === 0 ? ['cbt'] : ['act'] }),
    )
    const res = await b.inject({ method: 'POST', url: '/v1/therapists/import', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(lines) })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json<{ summary: { created: number } }>().summary.created).toBe(1100)
    const own = await searchWithEngine(b, `${url}&modality=cbt&maxFee=120`)
    expect(own.engine).toBe('index')
    expect(difference(own.comparable, (await truth(`${url}&modality=cbt&maxFee=120`)).comparable)).toBe('')
    for (const query of [`${url}&sort=name`, `${url}&modality=cbt&maxFee=120`, `/v1/therapists?q=${marker}&sort=fee&limit=7`]) await reaches(a, query, 'bulk import')
  })

  it('follows writes made in the database itself (an operator’s UPDATE and DELETE), on every instance', async () => {
    newMarker()
    const url = `/v1/therapists?q=${marker}&sort=name`
    const made: string[] = []
    for (const name of ['Op One', 'Op Two', 'Op Three']) made.push((await a.inject({ method: 'POST', url: '/v1/therapists', payload: therapist({ name }) })).json<{ id: string }>().id)
    await scratch.db.query(`UPDATE therapist SET accepting_new_clients = false, name = 'Op Renamed' WHERE id = $1::uuid`, [made[0]])
    await scratch.db.query(`DELETE FROM therapist WHERE id = $1::uuid`, [made[1]])
    for (const app of [a, b]) {
      await reaches(app, url, 'operator writes')
      await reaches(app, `${url}&acceptingNewClients=false`, 'operator writes')
    }
    expect(ids(await search(a, url))).toEqual([made[0], made[2]])
  })

  it('reads every one of many consecutive writes in the writer’s next search', async () => {
    newMarker()
    const id = (await a.inject({ method: 'POST', url: '/v1/therapists', payload: therapist() })).json<{ id: string }>().id
    for (let fee = 100; fee < 120; fee += 1) {
      const res = await a.inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: { feeMin: fee, feeMax: 200, acceptingNewClients: fee % 2 === 0 } })
      expect(res.statusCode, res.body).toBe(200)
      await readsOwnWrite(a, `/v1/therapists?q=${marker}&maxFee=${fee}&acceptingNewClients=${fee % 2 === 0}`, [id])
      await readsOwnWrite(a, `/v1/therapists?q=${marker}&maxFee=${fee - 1}`, [])
    }
    await reaches(b, `/v1/therapists?q=${marker}&maxFee=119&acceptingNewClients=false`, 'last of many patches')
  })

  it('forgets a repeated language of a therapist that was in the directory when the index was built, once it is removed and restored without it', async () => {
    // Languages are stored as given ("es-MX" twice here): the bulk load appends the slot to the term's list
    // once per occurrence, and a live change takes it out once.
    newMarker()
    const externalId = `lang-${marker}`
    const created = await sql.inject({ method: 'POST', url: '/v1/therapists', payload: therapist({ externalId, languages: ['en', 'es-MX', 'es-mx'] }) })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json<{ id: string }>().id
    const fresh = await curatorApp(scratch.db, { DIRECTORY_INDEX: 'memory' })
    try {
      const url = `/v1/therapists?q=${marker}&language=es-MX`
      await readsOwnWrite(fresh, url, [id])
      expect((await fresh.inject({ method: 'DELETE', url: `/v1/therapists/${id}` })).statusCode).toBe(204)
      await readsOwnWrite(fresh, url, [])
      const restored = await fresh.inject({
        method: 'POST',
        url: '/v1/therapists/import',
        headers: { 'content-type': 'application/x-ndjson' },
        payload: ndjson([therapist({ externalId, languages: ['en'] })]),
      })
      expect(restored.json<{ results: { status: string }[] }>().results[0]?.status, restored.body).toBe('updated')
      await readsOwnWrite(fresh, `/v1/therapists?q=${marker}`, [id])
      await readsOwnWrite(fresh, url, [])
    } finally {
      await fresh.raw.close()
    }
  })

  it('forgets a language repeated three times once it is patched away', async () => {
    newMarker()
    const created = await sql.inject({ method: 'POST', url: '/v1/therapists', payload: therapist({ languages: ['en', 'es-MX', 'es-MX', 'es-MX'] }) })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json<{ id: string }>().id
    const fresh = await curatorApp(scratch.db, { DIRECTORY_INDEX: 'memory' })
    try {
      const url = `/v1/therapists?q=${marker}&language=es-MX`
      await readsOwnWrite(fresh, url, [id])
      expect((await fresh.inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: { languages: ['en'] } })).statusCode).toBe(200)
      await readsOwnWrite(fresh, url, [])
    } finally {
      await fresh.raw.close()
    }
  })

  // Pages with no search point and no text are formatted from a cache of cards (search/hits.ts): a
  // change must reach it, through the writer and through every other instance.
  it('shows a changed card on a page served from the card cache, in the writer at once and in the other instance soon', async () => {
    newMarker()
    const url = `/v1/therapists?insurance=${marker}&facets=none`
    const created = await a.inject({ method: 'POST', url: '/v1/therapists', payload: therapist({ insurance: [marker], name: 'Cached Card' }) })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json<{ id: string }>().id
    await reaches(b, url, 'created')
    // Both instances have shown (and cached) the card; change what the card shows.
    await readsOwnWrite(a, url, [id])
    const patched = await a.inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: { name: 'Cached Card Renamed', acceptingNewClients: false, feeMin: 90 } })
    expect(patched.statusCode, patched.body).toBe(200)
    await readsOwnWrite(a, url, [id])
    expect(JSON.stringify((await search(a, url)).comparable)).toContain('Cached Card Renamed')
    await reaches(b, url, 'patched')
    expect(JSON.stringify((await search(b, url)).comparable)).toContain('Cached Card Renamed')
  })

  it('formats radius pages from the card cache as SQL does (office shown, distance to two decimals), and after the offices change', async () => {
    newMarker()
    const near = (km: number, bearing: number) => pointAt(km, bearing)
    const created = await a.inject({
      method: 'POST',
      url: '/v1/therapists',
      payload: therapist({
        insurance: [marker],
        offices: [
          { street: '1 Far St', city: 'Daly City', state: 'CA', postalCode: '94015', ...near(12.345, 200) },
          { street: '2 Near St', city: 'San Francisco', state: 'CA', postalCode: '94110', ...near(3.456, 20) },
        ],
      }),
    })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json<{ id: string }>().id
    for (const url of [
      `/v1/therapists?insurance=${marker}&near=${CENTER.latitude},${CENTER.longitude}&radiusKm=25&facets=none`,
      `/v1/therapists?insurance=${marker}&near=${CENTER.latitude},${CENTER.longitude}&radiusKm=25&sort=name&facets=none`,
      `/v1/therapists?insurance=${marker}&near=${CENTER.latitude},${CENTER.longitude}&radiusKm=5&includeTelehealth=true&facets=none`,
    ]) {
      // The first answer fills the cache, the second comes from it: both as SQL answers.
      await readsOwnWrite(a, url, [id])
      await readsOwnWrite(a, url, [id])
    }
    const url = `/v1/therapists?insurance=${marker}&near=${CENTER.latitude},${CENTER.longitude}&radiusKm=25&facets=none`
    const patched = await a.inject({
      method: 'PATCH',
      url: `/v1/therapists/${id}`,
      payload: { offices: [{ street: '3 Moved St', city: 'Brisbane', state: 'CA', postalCode: '94005', ...near(7.891, 160) }] },
    })
    expect(patched.statusCode, patched.body).toBe(200)
    await readsOwnWrite(a, url, [id])
    expect(JSON.stringify((await search(a, url)).comparable)).toContain('Brisbane')
    await reaches(b, url, 'offices moved')
  })
})
