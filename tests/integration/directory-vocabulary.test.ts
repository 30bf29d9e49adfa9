import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { TermListSchema, VocabulariesSchema } from '../../src/modules/directory/directory-schemas.js'
import { postalCodes } from '../../src/modules/directory/postal-codes.js'
import { generateTherapist, geoPool } from '../../src/modules/directory/therapist-generator.js'
import { normalizeTherapist } from '../../src/modules/directory/therapist-write.js'
import { Vocabulary, type VocabularyKind } from '../../src/modules/directory/vocabulary.js'
import { buildTestApp } from '../helpers/app.js'
import { bearer, clientToken } from '../helpers/auth.js'

describe('directory vocabularies', () => {
  let app: App
  let vocabularies: ReturnType<typeof VocabulariesSchema.parse>
  let headers: { authorization: string }
  beforeAll(async () => {
    app = await buildTestApp()
    headers = bearer(await clientToken(app, ['directory:read']))
    vocabularies = VocabulariesSchema.parse((await app.inject({ method: 'GET', url: '/v1/vocabularies', headers })).json())
  })
  afterAll(async () => {
    await app.close()
  })

  it('lists at least 15 modalities, including the article’s three, each described in two plain sentences', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/modalities', headers })
    expect(res.statusCode).toBe(200)
    const { data } = TermListSchema.parse(res.json())
    expect(data.length).toBeGreaterThanOrEqual(15)
    const slugs = data.map((term) => term.slug)
    expect(slugs).toEqual(expect.arrayContaining(['cbt', 'psychodynamic', 'attachment-based', 'eft', 'dbt', 'act', 'ifs', 'emdr', 'gottman', 'person-centered', 'solution-focused', 'narrative', 'mindfulness-based', 'schema-therapy', 'psychoanalytic']))
    for (const term of data) {
      expect(term.description.match(/[.!?](\s|$)/g)?.length, term.slug).toBe(2)
      expect(term.family, term.slug).not.toBeNull()
    }
    expect(data.find((term) => term.slug === 'eft')).toMatchObject({ name: 'Emotionally Focused Therapy', aliases: expect.arrayContaining(['EFT']) })
  })

  it('lists specialties, client focus, formats and license types with NUCC codes', async () => {
    const specialties = TermListSchema.parse((await app.inject({ method: 'GET', url: '/v1/specialties', headers })).json()).data.map((term) => term.slug)
    expect(specialties).toEqual(expect.arrayContaining(['relationship-issues', 'codependency', 'boundaries', 'attachment', 'communication', 'anxiety', 'depression', 'trauma', 'self-esteem', 'infidelity', 'grief']))
    expect(vocabularies.clientFocus.map((term) => term.slug)).toEqual(expect.arrayContaining(['individuals', 'couples', 'families', 'teens']))
    expect(vocabularies.formats.map((term) => term.slug)).toEqual(['in_person', 'telehealth'])
    const nucc = Object.fromEntries(vocabularies.licenseTypes.map((term) => [term.slug, term.nuccCode]))
    expect(nucc).toMatchObject({ psychologist: '103TC0700X', lcsw: '1041C0700X', lpc: '101YP2500X', lmhc: '101YM0800X', lmft: '106H00000X', psychiatrist: '2084P0800X' })
  })

  it('resolves every slug, name and alias to its own term, with no two terms claiming the same spelling', () => {
    const lists: [VocabularyKind, typeof vocabularies.modalities][] = [
      ['modality', vocabularies.modalities],
      ['specialty', vocabularies.specialties],
      ['client_focus', vocabularies.clientFocus],
      ['format', vocabularies.formats],
      ['license_type', vocabularies.licenseTypes],
    ]
    const vocabulary = new Vocabulary(lists.flatMap(([kind, terms]) => terms.map((term) => ({ ...term, kind, nuccCode: null }))))
    for (const [kind, terms] of lists) {
      for (const term of terms) {
        for (const spelling of [term.slug, term.name, ...term.aliases, term.name.toUpperCase(), term.slug.replace(/-/g, ' ')]) {
          expect(vocabulary.resolve(kind, spelling), `${kind} ${spelling}`).toBe(term.slug)
        }
      }
    }
  })
})

describe('demo therapist generator', () => {
  it('is deterministic, valid, and mixes the directory like the brief says', async () => {
    const app = await buildTestApp()
    const headers = bearer(await clientToken(app, ['directory:read']))
    const vocabularies = VocabulariesSchema.parse((await app.inject({ method: 'GET', url: '/v1/vocabularies', headers })).json())
    await app.close()
    const vocabulary = new Vocabulary([
      ...vocabularies.modalities.map((t) => ({ ...t, kind: 'modality' as const, nuccCode: null })),
      ...vocabularies.specialties.map((t) => ({ ...t, kind: 'specialty' as const, nuccCode: null })),
      ...vocabularies.clientFocus.map((t) => ({ ...t, kind: 'client_focus' as const, nuccCode: null })),
      ...vocabularies.formats.map((t) => ({ ...t, kind: 'format' as const, nuccCode: null })),
      ...vocabularies.licenseTypes.map((t) => ({ ...t, kind: 'license_type' as const })),
    ])
    const pool = geoPool(await postalCodes())
    expect(generateTherapist(pool, 7, 123)).toEqual(generateTherapist(pool, 7, 123))
    expect(generateTherapist(pool, 7, 123)).not.toEqual(generateTherapist(pool, 8, 123))

    const sample = Array.from({ length: 2000 }, (_, i) => generateTherapist(pool, 42, i))
    for (const input of sample.slice(0, 300)) expect((await normalizeTherapist(input, vocabulary)).ok).toBe(true)
    const share = (test: (t: (typeof sample)[number]) => boolean) => sample.filter(test).length / sample.length
    const modalityCounts = new Map<string, number>()
    for (const t of sample) for (const m of t.modalities ?? []) modalityCounts.set(m, (modalityCounts.get(m) ?? 0) + 1)
    expect([...modalityCounts].sort((a, b) => b[1] - a[1])[0]?.[0]).toBe('cbt')
    expect(sample.every((t) => (t.modalities?.length ?? 0) >= 2 && (t.modalities?.length ?? 0) <= 6)).toBe(true)
    expect(share((t) => t.acceptingNewClients)).toBeCloseTo(0.6, 1)
    expect(share((t) => t.slidingScale === true)).toBeCloseTo(0.3, 1)
    expect(share((t) => t.formats.includes('telehealth'))).toBeCloseTo(0.7, 1)
    const fees = sample.flatMap((t) => (t.feeMin === null || t.feeMin === undefined ? [] : [t.feeMin]))
    expect(Math.min(...fees)).toBeGreaterThanOrEqual(60)
    expect(fees.filter((fee) => fee <= 250).length / fees.length).toBeGreaterThan(0.95)
    // Offices sit near real ZIP centroids in the ZIP's own state.
    const zips = await postalCodes()
    for (const t of sample.slice(0, 200)) {
      for (const office of t.offices ?? []) {
        const zip = zips.get(office.postalCode)
        expect(zip?.state).toBe(office.state)
        expect(Math.abs((zip?.latitude ?? 0) - (office.latitude ?? 0))).toBeLessThan(0.05)
      }
    }
  })
})
