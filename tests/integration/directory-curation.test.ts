import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { ImportReportSchema, TherapistInputSchema, TherapistPatchSchema, TherapistSearchQuerySchema, TherapistSearchResultSchema } from '../../src/modules/directory/directory-schemas.js'
import { createDirectoryService, PATCH_ATTEMPTS } from '../../src/modules/directory/directory-service.js'
import { INSERT_NEW, UPDATE_BY_ID } from '../../src/modules/directory/therapist-write.js'
import { CENTER, parseProfile, createTherapist, isolatedDirectory, pointAt, type TherapistInput } from '../helpers/directory.js'

/** Curation: create, patch, soft delete and NDJSON import, and pagination while the directory changes. */

const minimal = (over: Partial<TherapistInput> = {}): TherapistInput => ({
  name: 'Robin Reyes',
  license: { type: 'lcsw', state: 'CA' },
  formats: ['telehealth'],
  acceptingNewClients: true,
  ...over,
})

const counts = async (query: (sql: string) => Promise<{ n: number }[]>) => ({
  therapists: (await query('SELECT count(*)::int AS n FROM therapist'))[0]?.n,
  offices: (await query('SELECT count(*)::int AS n FROM therapist_office'))[0]?.n,
})

describe('directory curation', () => {
  const ctx = isolatedDirectory()
  const tally = () => counts((sql) => ctx.scratch().db.query<{ n: number }>(sql))

  it('creates a therapist, reading aliases and placing an office without coordinates at its ZIP centroid', async () => {
    const res = await ctx.app().inject({
      method: 'POST',
      url: '/v1/therapists',
      payload: minimal({
        externalId: 'create-1',
        modalities: ['Attachment based', 'CBT', 'cbt'],
        specialties: ['Relationship Problems'],
        license: { type: 'LMFT', state: 'ca', number: 'LMFT 1', licensedStates: ['OR', 'CA'] },
        formats: ['In-Person', 'online'],
        languages: ['EN', 'es-mx'],
        offices: [{ street: '3001 Mission St', city: 'San Francisco', state: 'CA', postalCode: '94110' }],
        npi: '1234567893',
      }),
    })
    expect(res.statusCode).toBe(201)
    const body = parseProfile(res.json())
    expect(res.headers.location).toBe(`/v1/therapists/${body.id}`)
    expect(body).toMatchObject({
      modalities: ['attachment-based', 'cbt'],
      specialties: ['relationship-issues'],
      formats: ['in_person', 'telehealth'],
      languages: ['en', 'es-MX'],
      license: { type: 'lmft', state: 'CA', licensedStates: ['CA', 'OR'], nuccCode: '106H00000X' },
      offices: [{ postalCode: '94110', latitude: 37.7509, longitude: -122.4153 }],
    })
    expect(Date.parse(body.acceptingNewClientsVerifiedAt ?? '')).toBeGreaterThan(Date.now() - 60_000)
  })

  it('refuses invalid therapists with problem+json naming each field, and writes nothing', async () => {
    const before = await tally()
    const cases: [TherapistInput | Record<string, unknown>, string[]][] = [
      [{ ...minimal(), name: '' }, ['name']],
      [{ ...minimal(), npi: '1234567890' }, ['npi']],
      [{ ...minimal(), feeMin: 200, feeMax: 100 }, ['feeMin']],
      [{ ...minimal(), modalities: ['cbt', 'telepathy'] }, ['modalities.1']],
      [{ ...minimal(), formats: ['in_person'] }, ['offices']],
      [{ ...minimal(), offices: [{ street: 'x', city: 'y', state: 'CA', postalCode: '00001' }] }, ['offices.0.postalCode']],
      [{ ...minimal(), license: { type: 'wizard', state: 'ZZ' } }, ['license.state']],
      [{ ...minimal(), languages: ['english!'] }, ['languages.0']],
      [{ ...minimal(), surprise: true }, ['surprise']],
    ]
    for (const [payload, fields] of cases) {
      const res = await ctx.app().inject({ method: 'POST', url: '/v1/therapists', payload })
      expect(res.statusCode, JSON.stringify(payload)).toBe(400)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      const problem: { errors: { field: string }[] } = res.json()
      expect(problem.errors.map((e) => e.field), JSON.stringify(payload)).toEqual(fields)
    }
    expect(await tally()).toEqual(before)
  })

  it('lists the valid values for unknown vocabulary in a body, as a search does', async () => {
    const res = await ctx.app().inject({ method: 'POST', url: '/v1/therapists', payload: minimal({ modalities: ['cbt', 'telepathy'], license: { type: 'wizard', state: 'CA' } }) })
    expect(res.statusCode).toBe(400)
    const problem: { code: string; errors: unknown[]; validValues: Record<string, string[]> } = res.json()
    expect(problem.code).toBe('validation_failed')
    expect(problem.errors).toEqual([
      { in: 'body', field: 'modalities.1', message: 'Unknown modality "telepathy"', code: 'unknown_term' },
      { in: 'body', field: 'license.type', message: 'Unknown license type "wizard"', code: 'unknown_term' },
    ])
    expect(Object.keys(problem.validValues).sort()).toEqual(['license.type', 'modalities'])
    expect(problem.validValues.modalities).toEqual(expect.arrayContaining(['cbt', 'attachment-based']))
    expect(problem.validValues['license.type']).toEqual(expect.arrayContaining(['lmft', 'lcsw']))
  })

  it('refuses a taken externalId with 409', async () => {
    const owner = await createTherapist(ctx.app(), minimal({ externalId: 'dup-1' }))
    const res = await ctx.app().inject({ method: 'POST', url: '/v1/therapists', payload: minimal({ externalId: 'dup-1' }) })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ code: 'external_id_taken', therapistId: owner })
  })

  it('says when the externalId belongs to a removed therapist, and how to restore it', async () => {
    const removed = await createTherapist(ctx.app(), minimal({ externalId: 'gone-1', name: 'Old Name' }))
    expect((await ctx.app().inject({ method: 'DELETE', url: `/v1/therapists/${removed}` })).statusCode).toBe(204)
    const res = await ctx.app().inject({ method: 'POST', url: '/v1/therapists', payload: minimal({ externalId: 'gone-1', name: 'New Name' }) })
    expect(res.statusCode).toBe(409)
    const problem: { code: string; detail: string; therapistId: string } = res.json()
    expect(problem).toMatchObject({ code: 'external_id_removed', therapistId: removed })
    expect(problem.detail).toMatch(/removed/)
    expect(problem.detail).toMatch(/\/v1\/therapists\/import/)
    // Doing what it says brings the therapist back, with the new content.
    const report = await importLines([minimal({ externalId: 'gone-1', name: 'New Name' })])
    expect(report.results[0]).toMatchObject({ status: 'updated', id: removed })
    expect((await ctx.app().inject({ method: 'GET', url: `/v1/therapists/${removed}` })).json()).toMatchObject({ name: 'New Name' })
  })

  it('clears the availability verification date with null', async () => {
    const id = await createTherapist(ctx.app(), minimal({ acceptingNewClientsVerifiedAt: '2026-01-01T00:00:00Z' }))
    const cleared = await ctx.app().inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: { acceptingNewClientsVerifiedAt: null } })
    expect(cleared.statusCode).toBe(200)
    expect(cleared.json().acceptingNewClientsVerifiedAt).toBeNull()
    // Other changes leave it cleared; changing availability records a new verification.
    expect((await ctx.app().inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: { pronouns: 'he/him' } })).json().acceptingNewClientsVerifiedAt).toBeNull()
    const changed = await ctx.app().inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: { acceptingNewClients: false } })
    expect(Date.parse(changed.json().acceptingNewClientsVerifiedAt)).toBeGreaterThan(Date.now() - 60_000)
    // Leaving it out or giving a date still work as before.
    const dated = await ctx.app().inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: { acceptingNewClientsVerifiedAt: '2026-02-02T00:00:00Z' } })
    expect(dated.json().acceptingNewClientsVerifiedAt).toBe('2026-02-02T00:00:00.000Z')
  })

  it('patches fields, re-verifying availability when it changes, and validates the merged whole', async () => {
    const id = await createTherapist(ctx.app(), minimal({ feeMin: 100, feeMax: 150, acceptingNewClientsVerifiedAt: '2026-01-01T00:00:00Z' }))
    const same = await ctx.app().inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: { pronouns: 'they/them' } })
    expect(same.statusCode).toBe(200)
    expect(same.json()).toMatchObject({ pronouns: 'they/them', acceptingNewClientsVerifiedAt: '2026-01-01T00:00:00.000Z' })

    const changed = await ctx.app().inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: { acceptingNewClients: false, modalities: ['IFS'] } })
    expect(changed.json()).toMatchObject({ acceptingNewClients: false, modalities: ['ifs'], pronouns: 'they/them' })
    expect(Date.parse(changed.json().acceptingNewClientsVerifiedAt)).toBeGreaterThan(Date.now() - 60_000)

    const invalid = await ctx.app().inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: { feeMin: 200 } })
    expect(invalid.statusCode).toBe(400)
    expect(invalid.json().errors[0]).toMatchObject({ field: 'feeMin' })
    expect((await ctx.app().inject({ method: 'GET', url: `/v1/therapists/${id}` })).json().feeMin).toBe(100)
    const cleared = await ctx.app().inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: { pronouns: null } })
    expect(cleared.json().pronouns).toBeNull()
    expect((await ctx.app().inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: {} })).statusCode).toBe(400)
    expect((await ctx.app().inject({ method: 'PATCH', url: '/v1/therapists/7a1e2b47-5e0c-4a53-9a6f-3f2f0c3e1b11', payload: { pronouns: 'x' } })).statusCode).toBe(404)
  })

  it('keeps both of two concurrent patches to different fields', async () => {
    const db = ctx.scratch().db
    const id = await createTherapist(ctx.app(), minimal({ externalId: 'lost-update-1' }))
    // The second patch runs in full after the first has read and merged, just before the first writes.
    let beforeWrite: (() => Promise<unknown>) | undefined
    const query = async <Row>(sql: string, params?: unknown[]): Promise<Row[]> => {
      const hook = beforeWrite
      if (hook !== undefined && sql === UPDATE_BY_ID) {
        beforeWrite = undefined
        await hook()
      }
      return db.query<Row>(sql, params)
    }
    const directory = createDirectoryService({ db: { prisma: db.prisma, query } })
    beforeWrite = () => directory.patch(id, TherapistPatchSchema.parse({ bio: 'Written by the second patch.' }))
    const first = await directory.patch(id, TherapistPatchSchema.parse({ pronouns: 'they/them' }))
    expect(beforeWrite).toBeUndefined()
    expect(first).toMatchObject({ pronouns: 'they/them', bio: 'Written by the second patch.' })

    // Through HTTP, several at once: every field lands.
    const fields = [{ pronouns: 'she/her' }, { bio: 'Third bio.' }, { yearsInPractice: 7 }, { credentials: ['MA'] }]
    const results = await Promise.all(fields.map((payload) => ctx.app().inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload })))
    expect(results.map((res) => res.statusCode)).toEqual([200, 200, 200, 200])
    const profile = await ctx.app().inject({ method: 'GET', url: `/v1/therapists/${id}` })
    expect(profile.json()).toMatchObject({ pronouns: 'she/her', bio: 'Third bio.', yearsInPractice: 7, credentials: ['MA'] })
  })

  it('answers 409 when other writes keep changing the therapist under a patch', async () => {
    const db = ctx.scratch().db
    const id = await createTherapist(ctx.app(), minimal({ externalId: 'lost-update-2' }))
    let interruptions = 0
    const query = async <Row>(sql: string, params?: unknown[]): Promise<Row[]> => {
      if (sql === UPDATE_BY_ID) {
        interruptions += 1
        await db.query(`UPDATE therapist SET content_hash = $2, bio = $2 WHERE id = $1`, [id, `elsewhere ${interruptions}`])
      }
      return db.query<Row>(sql, params)
    }
    const directory = createDirectoryService({ db: { prisma: db.prisma, query } })
    await expect(directory.patch(id, TherapistPatchSchema.parse({ pronouns: 'ze/hir' }))).rejects.toMatchObject({ status: 409, code: 'concurrent_update' })
    expect(interruptions).toBe(PATCH_ATTEMPTS)
    const [row] = await db.query<{ pronouns: string | null }>('SELECT pronouns FROM therapist WHERE id = $1', [id])
    expect(row?.pronouns).toBeNull()
  })

  it('recounts facets right after a write, although counts are cached', async () => {
    const facet = async () => {
      const res = await ctx.app().inject({ method: 'GET', url: '/v1/therapists?facets=licenseType&limit=1' })
      const body = TherapistSearchResultSchema.parse(res.json())
      return body.facets?.licenseType?.find((entry) => entry.value === 'psychoanalyst')?.count ?? 0
    }
    const before = await facet()
    const id = await createTherapist(ctx.app(), minimal({ license: { type: 'psychoanalyst', state: 'NY' } }))
    expect(await facet()).toBe(before + 1)
    await ctx.app().inject({ method: 'DELETE', url: `/v1/therapists/${id}` })
    expect(await facet()).toBe(before)
  })

  it('never keeps facet counts that a search took while a write was in flight', async () => {
    const db = ctx.scratch().db
    // A search runs after the write has begun but before it commits: its counts predate the write.
    let beforeCommit: (() => Promise<unknown>) | undefined
    const query = async <Row>(sql: string, params?: unknown[]): Promise<Row[]> => {
      const hook = beforeCommit
      if (hook !== undefined && sql === INSERT_NEW) {
        beforeCommit = undefined
        await hook()
      }
      return db.query<Row>(sql, params)
    }
    const directory = createDirectoryService({ db: { prisma: db.prisma, query }, facetCacheMs: 60_000 })
    const search = TherapistSearchQuerySchema.parse({ facets: 'licenseType', limit: '1' })
    const count = async () => {
      const body = TherapistSearchResultSchema.parse(JSON.parse(await directory.search(search)))
      return body.facets?.licenseType?.find((entry) => entry.value === 'psychologist')?.count ?? 0
    }
    const before = await count()
    beforeCommit = count
    await directory.create(TherapistInputSchema.parse(minimal({ externalId: 'race-1', license: { type: 'psychologist', state: 'NY' } })))
    expect(beforeCommit).toBeUndefined()
    expect(await count()).toBe(before + 1)
  })

  it('soft-deletes: gone from profile, search and patch, the row kept', async () => {
    const id = await createTherapist(ctx.app(), minimal({ name: 'Quentin Quill', bio: 'quillwort specialist' }))
    expect((await ctx.app().inject({ method: 'DELETE', url: `/v1/therapists/${id}` })).statusCode).toBe(204)
    expect((await ctx.app().inject({ method: 'DELETE', url: `/v1/therapists/${id}` })).statusCode).toBe(404)
    expect((await ctx.app().inject({ method: 'GET', url: `/v1/therapists/${id}` })).statusCode).toBe(404)
    expect((await ctx.app().inject({ method: 'PATCH', url: `/v1/therapists/${id}`, payload: { bio: 'x' } })).statusCode).toBe(404)
    const search = await ctx.app().inject({ method: 'GET', url: '/v1/therapists?q=quillwort' })
    expect(search.json().data).toEqual([])
    const [row] = await ctx.scratch().db.query<{ deleted: boolean }>('SELECT deleted_at IS NOT NULL AS deleted FROM therapist WHERE id = $1', [id])
    expect(row?.deleted).toBe(true)
  })

  const ndjson = (lines: (object | string)[]) => lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n'
  const importLines = async (lines: (object | string)[]) => {
    const res = await ctx.app().inject({ method: 'POST', url: '/v1/therapists/import', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(lines) })
    expect(res.statusCode, res.body).toBe(200)
    return ImportReportSchema.parse(res.json())
  }

  it('imports NDJSON: created, updated, unchanged, rejected with reasons', async () => {
    const office = { street: '1 Pine St', city: 'San Francisco', state: 'CA', postalCode: '94111', latitude: 37.79, longitude: -122.4 }
    const first = await importLines([
      minimal({ externalId: 'imp-1', name: 'Ima Port', formats: ['in_person'], offices: [office] }),
      minimal({ externalId: 'imp-2', name: 'Ivy Porter' }),
      'not json at all',
      '',
      minimal({ name: 'No Key' }),
      { ...minimal({ externalId: 'imp-3' }), modalities: ['cbt', 'astrology'] },
      { externalId: 'imp-4', name: 'Half' },
    ])
    expect(first.summary).toEqual({ lines: 6, created: 2, updated: 0, unchanged: 0, rejected: 4, complete: true })
    expect(first.results.map((r) => [r.line, r.externalId, r.status])).toEqual([
      [1, 'imp-1', 'created'],
      [2, 'imp-2', 'created'],
      [3, null, 'rejected'],
      [5, null, 'rejected'],
      [6, 'imp-3', 'rejected'],
      [7, 'imp-4', 'rejected'],
    ])
    expect(first.results[2]?.errors?.[0]?.code).toBe('invalid_json')
    expect(first.results[3]?.errors?.[0]).toMatchObject({ field: 'externalId', code: 'required' })
    expect(first.results[4]?.errors).toEqual([expect.objectContaining({ field: 'modalities.1', code: 'unknown_term' })])
    // The valid values once for the whole report, not in every line.
    expect(Object.keys(first.validValues ?? {})).toEqual(['modalities'])
    expect(first.validValues?.modalities).toEqual(expect.arrayContaining(['cbt', 'psychodynamic']))
    expect(first.results[5]?.errors?.map((e) => e.field).sort()).toEqual(['acceptingNewClients', 'formats', 'license'])

    const second = await importLines([
      minimal({ externalId: 'imp-1', name: 'Ima Port', formats: ['in_person'], offices: [office] }),
      minimal({ externalId: 'imp-2', name: 'Ivy Porter', pronouns: 'she/her' }),
    ])
    expect(second.results.map((r) => r.status)).toEqual(['unchanged', 'updated'])
    expect(second.results[0]?.id).toBe(first.results[0]?.id)
    const profile = await ctx.app().inject({ method: 'GET', url: `/v1/therapists/${first.results[1]?.id}` })
    expect(profile.json().pronouns).toBe('she/her')

    // A soft-deleted listing comes back when its source sends it again.
    await ctx.app().inject({ method: 'DELETE', url: `/v1/therapists/${first.results[0]?.id}` })
    const third = await importLines([minimal({ externalId: 'imp-1', name: 'Ima Port', formats: ['in_person'], offices: [office] })])
    expect(third.results[0]).toMatchObject({ status: 'updated', id: first.results[0]?.id })
    expect((await ctx.app().inject({ method: 'GET', url: `/v1/therapists/${first.results[0]?.id}` })).statusCode).toBe(200)
  })

  it('applies repeated externalIds in order: the later line wins', async () => {
    const report = await importLines([minimal({ externalId: 'rep-1', name: 'First Version' }), minimal({ externalId: 'rep-1', name: 'Second Version' })])
    expect(report.results.map((r) => r.status)).toEqual(['created', 'updated'])
    const profile = await ctx.app().inject({ method: 'GET', url: `/v1/therapists/${report.results[0]?.id}` })
    expect(profile.json().name).toBe('Second Version')
  })

  it('writes each line whole or not at all, even when the database refuses one line of a batch', async () => {
    const db = ctx.scratch().db
    await db.query(`ALTER TABLE therapist ADD CONSTRAINT test_refuses_explode CHECK (name <> 'Explode Now')`)
    try {
      const before = await tally()
      const office = { street: '9 Elm', city: 'Oakland', state: 'CA', postalCode: '94612' }
      const report = await importLines([
        minimal({ externalId: 'atom-1', formats: ['in_person'], offices: [office] }),
        minimal({ externalId: 'atom-2', name: 'Explode Now', formats: ['in_person'], offices: [office, office] }),
        minimal({ externalId: 'atom-3', formats: ['in_person'], offices: [office] }),
      ])
      expect(report.results.map((r) => r.status)).toEqual(['created', 'rejected', 'created'])
      expect(report.results[1]?.errors?.[0]).toMatchObject({ code: 'write_failed' })
      expect(await tally()).toEqual({ therapists: (before.therapists ?? 0) + 2, offices: (before.offices ?? 0) + 2 })
      const [orphan] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM therapist WHERE external_id = 'atom-2'`)
      expect(orphan?.n).toBe(0)
    } finally {
      await db.query('ALTER TABLE therapist DROP CONSTRAINT test_refuses_explode')
    }
  })

  it('imports more lines than one batch holds', async () => {
    const lines = Array.from({ length: 1234 }, (_, i) => minimal({ externalId: `bulk-${i}`, name: `Bulk ${String(i).padStart(4, '0')}` }))
    const report = await importLines(lines)
    expect(report.summary).toMatchObject({ lines: 1234, created: 1234, rejected: 0 })
    expect(new Set(report.results.map((r) => r.id)).size).toBe(1234)
    expect((await importLines(lines)).summary).toMatchObject({ unchanged: 1234 })
  })

  it('reads at most 50,000 lines per import, then stops with one entry saying where', async () => {
    // Lines before the limit are cheap rejections (not therapists); the two after it are valid and must not be written.
    const filler = Array.from({ length: 50_000 }, () => '{}')
    const beyond = [minimal({ externalId: 'beyond-1' }), minimal({ externalId: 'beyond-2' })]
    const res = await ctx.app().inject({ method: 'POST', url: '/v1/therapists/import', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson([...filler, ...beyond]) })
    expect(res.statusCode).toBe(200)
    // Reading stopped with the body unread: the connection is not reused.
    expect(res.headers.connection).toBe('close')
    const report = ImportReportSchema.parse(res.json())
    // Changed on purpose: line 50,002 is no longer read at all, so it gets no entry of its own (the report stays bounded).
    expect(report.summary).toEqual({ lines: 50_001, created: 0, updated: 0, unchanged: 0, rejected: 50_001, complete: false })
    expect(report.results.at(-1)).toEqual(expect.objectContaining({ line: 50_001, status: 'rejected', errors: [expect.objectContaining({ code: 'line_limit' })] }))
    const [row] = await ctx.scratch().db.query<{ n: number }>(`SELECT count(*)::int AS n FROM therapist WHERE external_id LIKE 'beyond-%'`)
    expect(row?.n).toBe(0)
  })

  it('skips a line longer than 256 KiB unread and goes on with the next', async () => {
    const report = await importLines([minimal({ externalId: 'long-1' }), `{"name":"${'x'.repeat(300 * 1024)}"}`, minimal({ externalId: 'long-3' })])
    expect(report.summary).toMatchObject({ lines: 3, created: 2, rejected: 1, complete: true })
    expect(report.results[1]).toMatchObject({ line: 2, status: 'rejected', errors: [expect.objectContaining({ code: 'line_too_long' })] })
  })

  it('refuses an import that declares more than 64 MiB before reading it', async () => {
    const res = await ctx.app().inject({
      method: 'POST',
      url: '/v1/therapists/import',
      headers: { 'content-type': 'application/x-ndjson', 'content-length': String(64 * 1024 * 1024 + 1) },
      payload: ndjson([minimal({ externalId: 'declared-1' })]),
    })
    expect(res.statusCode).toBe(413)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.json().code).toBe('body_too_large')
    const [row] = await ctx.scratch().db.query<{ n: number }>(`SELECT count(*)::int AS n FROM therapist WHERE external_id = 'declared-1'`)
    expect(row?.n).toBe(0)
  })

  it('stops a streamed import at 64 MiB and still reports the lines it wrote, without holding a line that never ends', async () => {
    const head = ndjson([minimal({ externalId: 'stream-1' }), 'oops', minimal({ externalId: 'stream-2' })])
    const megabyte = Buffer.alloc(1024 * 1024, 'x')
    let sent = 0
    // Chunked, with no Content-Length, and no line break after the head: only counting bytes as they arrive can stop it.
    const body = new Readable({
      read() {
        if (sent === 0) this.push(head)
        else if (sent > 70) this.push(null)
        else this.push(megabyte)
        sent += 1
      },
    })
    const res = await ctx.app().inject({ method: 'POST', url: '/v1/therapists/import', headers: { 'content-type': 'application/x-ndjson; charset=utf-8' }, payload: body })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers.connection).toBe('close')
    const report = ImportReportSchema.parse(res.json())
    expect(report.summary).toEqual({ lines: 4, created: 2, updated: 0, unchanged: 0, rejected: 2, complete: false })
    expect(report.results.map((r) => [r.line, r.status, r.errors?.[0]?.code])).toEqual([
      [1, 'created', undefined],
      [2, 'rejected', 'invalid_json'],
      [3, 'created', undefined],
      [4, 'rejected', 'body_too_large'],
    ])
    const [row] = await ctx.scratch().db.query<{ n: number }>(`SELECT count(*)::int AS n FROM therapist WHERE external_id LIKE 'stream-%'`)
    expect(row?.n).toBe(2)
    // The stream was not read to its end.
    expect(sent).toBeLessThan(70)
  })

  it('takes imports only as NDJSON, refusing JSON before reading it', async () => {
    const res = await ctx.app().inject({ method: 'POST', url: '/v1/therapists/import', payload: minimal({ externalId: 'json-1' }) })
    expect(res.statusCode).toBe(415)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.json().code).toBe('unsupported_media_type')
    // And NDJSON only there: a single create takes JSON.
    const ndjsonCreate = await ctx.app().inject({ method: 'POST', url: '/v1/therapists', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson([minimal()]) })
    expect(ndjsonCreate.statusCode).toBe(415)
  })
})

describe('directory pagination while the directory changes', () => {
  const ctx = isolatedDirectory()
  const bearing = (i: number) => (i * 37) % 360
  const therapist = (i: number, over: Partial<TherapistInput> = {}): TherapistInput => ({
    // Every third name holds the search word too, so relevance pages cross from the name tier to the bio tier.
    name: `${i % 3 === 0 ? 'Wayfinding' : 'Page'} ${String.fromCharCode(65 + (i % 26))}${String(i).padStart(3, '0')}`,
    license: { type: 'lpc', state: 'CA' },
    bio: `Wayfinding journey number ${i}.${' wayfinding'.repeat(i % 4)}`,
    formats: ['in_person'],
    offices: [{ street: `${i} Page St`, city: 'San Francisco', state: 'CA', postalCode: '94110', ...pointAt(1 + i * 1.5, bearing(i)) }],
    feeMin: 50 + ((i * 7) % 20) * 10,
    acceptingNewClients: true,
    ...over,
  })

  const SORTS: [string, string][] = [
    ['name', 'sort=name'],
    ['fee', 'sort=fee'],
    ['relevance', 'q=wayfinding'],
    ['distance', `near=${CENTER.latitude},${CENTER.longitude}&radiusKm=100`],
  ]

  it.each(SORTS)('sort=%s: pages never repeat or skip a therapist while others are added and edited', async (_sort, query) => {
    const app = ctx.app()
    const ids = new Set<string>()
    for (let i = 0; i < 14; i += 1) ids.add(await createTherapist(app, therapist(i)))
    const seen: string[] = []
    let cursor: string | null = null
    let page = 0
    let extra = 100
    do {
      const res = await app.inject({ method: 'GET', url: `/v1/therapists?${query}&limit=3${cursor ? `&cursor=${cursor}` : ''}` })
      expect(res.statusCode, res.body).toBe(200)
      const body = TherapistSearchResultSchema.parse(res.json())
      expect(body.facets === null).toBe(cursor !== null)
      seen.push(...body.data.map((hit) => hit.id))
      cursor = body.page.nextCursor
      page += 1
      // Between pages: new therapists that sort before and after the cursor, and an edit that keeps the sort key.
      await createTherapist(app, therapist(extra++, { name: 'Aaron Early', feeMin: 10, bio: 'wayfinding wayfinding wayfinding wayfinding wayfinding', offices: [{ street: '1 A St', city: 'San Francisco', state: 'CA', postalCode: '94110', ...pointAt(0.1, 0) }] }))
      await createTherapist(app, therapist(extra++, { name: 'Zed Late', feeMin: 999, bio: 'wayfinding once', offices: [{ street: '1 Z St', city: 'San Francisco', state: 'CA', postalCode: '94110', ...pointAt(90, 0) }] }))
      const unseen = [...ids].find((id) => !seen.includes(id))
      if (unseen) await app.inject({ method: 'PATCH', url: `/v1/therapists/${unseen}`, payload: { pronouns: `edit ${page}` } })
    } while (cursor !== null && page < 40)
    expect(new Set(seen).size).toBe(seen.length)
    for (const id of ids) expect(seen).toContain(id)
    // Clean up so the next sort starts from the same directory.
    await ctx.scratch().db.query('DELETE FROM therapist')
  })

  it('refuses a cursor from another sort or one that was tampered with', async () => {
    const app = ctx.app()
    for (let i = 0; i < 3; i += 1) await createTherapist(app, therapist(i))
    const first = await app.inject({ method: 'GET', url: '/v1/therapists?sort=name&limit=1' })
    const cursor: string = first.json().page.nextCursor
    const other = await app.inject({ method: 'GET', url: `/v1/therapists?sort=fee&limit=1&cursor=${cursor}` })
    expect(other.statusCode).toBe(400)
    expect(other.json().code).toBe('invalid_cursor')
    const forged = await app.inject({ method: 'GET', url: `/v1/therapists?sort=name&cursor=${Buffer.from('{"s":"name","n":1}').toString('base64url')}` })
    expect(forged.json().code).toBe('invalid_cursor')
  })
})
