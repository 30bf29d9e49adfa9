import { z } from 'zod'
import { PageQuerySchema, pageOf } from '../../lib/pagination.js'
import { US_STATES } from './postal-codes.js'

/*
 * Zod schemas of the directory: request validation, TypeScript types and the OpenAPI document.
 * Vocabulary values (modalities, specialties, …) are checked against the database's vocabulary by
 * the service, since the lists are data; the schemas only bound their shape.
 */

// ---------- shared pieces ----------

const StateCode = z
  .string()
  .regex(/^[A-Za-z]{2}$/, { error: 'must be a two-letter US state code' })
  .transform((value) => value.toUpperCase())
  .refine((value) => (US_STATES as readonly string[]).includes(value), { error: 'must be a US state, DC or territory code' })

/** A BCP 47 language tag in canonical form ("en-us" → "en-US"), or undefined when it is not one. Profiles and searches use the same form. */
export function canonicalLanguageTag(value: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(value.trim())[0]
  } catch {
    return undefined
  }
}

/** A BCP 47 language tag, stored in canonical form. */
const LanguageTag = z
  .string()
  .min(2)
  .max(35)
  .transform((value, ctx) => {
    const canonical = canonicalLanguageTag(value)
    if (canonical !== undefined) return canonical
    ctx.addIssue({ code: 'custom', message: 'must be a BCP 47 language tag, e.g. en, es-MX, zh-Hant' })
    return z.NEVER
  })

/** NPI check digit: Luhn over "80840" + the first nine digits (CMS NPI standard). */
export function isValidNpi(npi: string): boolean {
  if (!/^\d{10}$/.test(npi)) return false
  const digits = `80840${npi.slice(0, 9)}`
  let sum = 0
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 0) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return (10 - (sum % 10)) % 10 === Number(npi[9])
}

const TermList = (what: string, max: number) => z.array(z.string().min(1).max(100)).max(max).describe(`${what}: slugs, names or aliases, in any case.`)

// ---------- vocabularies ----------

export const VocabularyTermSchema = z
  .object({
    slug: z.string().describe('Stable identifier to use in filters and profiles.'),
    name: z.string(),
    aliases: z.array(z.string()).describe('Other names accepted wherever this term is given (any case).'),
    family: z.string().nullable().describe('Group the term belongs to (a modality family, a specialty area).'),
    description: z.string().describe('Plain-language description for someone choosing a therapist for the first time.'),
  })
  .meta({
    id: 'VocabularyTerm',
    example: {
      slug: 'attachment-based',
      name: 'Attachment-Based Therapy',
      aliases: ['Attachment Based Therapy', 'Attachment-Focused Therapy', 'Attachment Focused', 'Attachment-Informed Therapy'],
      family: 'relational',
      description:
        'This approach looks at how your early bonds shaped the way you connect, trust and cope when someone you love feels distant. It helps you understand anxious or avoidant patterns and build more secure relationships.',
    },
  })

export const LicenseTypeTermSchema = VocabularyTermSchema.extend({
  nuccCode: z.string().describe('NUCC Health Care Provider Taxonomy code.'),
}).meta({ id: 'LicenseTypeTerm' })

/** A vocabulary list: the whole list is one page (`nextCursor` is always null). */
export const TermListSchema = pageOf(VocabularyTermSchema)

export const VocabulariesSchema = z
  .object({
    modalities: z.array(VocabularyTermSchema),
    specialties: z.array(VocabularyTermSchema),
    clientFocus: z.array(VocabularyTermSchema),
    formats: z.array(VocabularyTermSchema),
    licenseTypes: z.array(LicenseTypeTermSchema),
  })
  .meta({ id: 'Vocabularies' })

// ---------- therapist profile ----------

export const OfficeSchema = z
  .object({
    street: z.string(),
    city: z.string(),
    state: z.string(),
    postalCode: z.string(),
    latitude: z.number(),
    longitude: z.number(),
  })
  .meta({ id: 'Office' })

export const LicenseSchema = z.object({
  type: z.string().describe('License type slug (see GET /v1/vocabularies).'),
  name: z.string().describe('Name of the license type.'),
  nuccCode: z.string().describe('NUCC taxonomy code of the license type.'),
  number: z.string().nullable(),
  state: z.string().describe('State that issued the license.'),
  licensedStates: z.array(z.string()).describe('Every state the therapist is licensed in (telehealth is possible there).'),
})

export const TherapistSchema = z
  .object({
    id: z.uuid(),
    externalId: z.string().nullable().describe('The curator’s own id, the key of imports.'),
    name: z.string(),
    pronouns: z.string().nullable(),
    credentials: z.array(z.string()).describe('Degrees and credentials as listed, e.g. ["PhD", "LMFT"].'),
    license: LicenseSchema,
    npi: z.string().nullable().describe('National Provider Identifier (10 digits).'),
    bio: z.string(),
    yearsInPractice: z.number().int().nullable(),
    modalities: z.array(z.string()).describe('Modality slugs.'),
    specialties: z.array(z.string()).describe('Specialty slugs.'),
    clientFocus: z.array(z.string()).describe('Client focus slugs.'),
    formats: z.array(z.string()).describe('`in_person` and/or `telehealth`.'),
    languages: z.array(z.string()).describe('BCP 47 language tags.'),
    offices: z.array(OfficeSchema),
    feeMin: z.number().int().nullable().describe('Lowest fee per session, USD.'),
    feeMax: z.number().int().nullable().describe('Highest fee per session, USD.'),
    slidingScale: z.boolean(),
    insurance: z.array(z.string()),
    acceptingNewClients: z.boolean(),
    acceptingNewClientsVerifiedAt: z.iso.datetime().nullable().describe('When `acceptingNewClients` was last confirmed.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({
    id: 'Therapist',
    example: {
      id: '3f0c9b7e-2a51-4c8e-9d7a-5b1e6f2c4a10',
      externalId: 'ca-bbs-lmft-104233',
      name: 'Maya Okafor',
      pronouns: 'she/her',
      credentials: ['MA', 'LMFT'],
      license: {
        type: 'lmft',
        name: 'Licensed Marriage and Family Therapist',
        nuccCode: '106H00000X',
        number: 'LMFT 104233',
        state: 'CA',
        licensedStates: ['CA', 'OR'],
      },
      npi: '1234567893',
      bio: 'I help adults and couples who feel stuck in the same painful arguments. My work is attachment-based and emotionally focused…',
      yearsInPractice: 12,
      modalities: ['attachment-based', 'eft', 'cbt'],
      specialties: ['relationship-issues', 'attachment', 'communication'],
      clientFocus: ['individuals', 'couples'],
      formats: ['in_person', 'telehealth'],
      languages: ['en', 'es'],
      offices: [{ street: '2940 16th St, Suite 210', city: 'San Francisco', state: 'CA', postalCode: '94103', latitude: 37.7651, longitude: -122.4189 }],
      feeMin: 140,
      feeMax: 200,
      slidingScale: true,
      insurance: ['Aetna', 'Blue Shield of California'],
      acceptingNewClients: true,
      acceptingNewClientsVerifiedAt: '2026-11-20T17:04:00.000Z',
      createdAt: '2026-10-02T09:15:00.000Z',
      updatedAt: '2026-11-20T17:04:00.000Z',
    },
  })
export type Therapist = z.infer<typeof TherapistSchema>

// ---------- writes ----------

const OfficeInputSchema = z
  .strictObject({
    street: z.string().trim().min(1).max(200),
    city: z.string().trim().min(1).max(100),
    state: StateCode,
    postalCode: z.string().regex(/^\d{5}(-\d{4})?$/, { error: 'must be a US ZIP code (12345 or 12345-6789)' }),
    latitude: z.number().min(-90).max(90).optional(),
    longitude: z.number().min(-180).max(180).optional(),
  })
  .refine((office) => (office.latitude === undefined) === (office.longitude === undefined), {
    error: 'give both latitude and longitude, or neither (the ZIP code centroid is used then)',
    path: ['latitude'],
  })

const LicenseInputSchema = z.strictObject({
  type: z.string().min(1).max(100).describe('License type: slug, name or abbreviation (e.g. `lmft`, "LMFT", "LCSW").'),
  number: z.string().trim().min(1).max(50).nullable().optional(),
  state: StateCode.describe('Issuing state.'),
  licensedStates: z.array(StateCode).max(60).optional().describe('Further states the therapist is licensed in; the issuing state is always included.'),
})

const therapistFields = {
  externalId: z.string().trim().min(1).max(200).nullable().optional().describe('Your own id for this therapist; imports upsert by it.'),
  name: z.string().trim().min(1).max(200),
  pronouns: z.string().trim().min(1).max(40).nullable().optional(),
  credentials: z.array(z.string().trim().min(1).max(30)).max(10).optional(),
  license: LicenseInputSchema,
  npi: z.string().refine(isValidNpi, { error: 'must be a valid 10-digit NPI' }).nullable().optional(),
  bio: z.string().max(5000).optional(),
  yearsInPractice: z.number().int().min(0).max(80).nullable().optional(),
  modalities: TermList('Modalities', 20).optional(),
  specialties: TermList('Specialties', 30).optional(),
  clientFocus: TermList('Client focus', 10).optional(),
  formats: TermList('Formats (`in_person`, `telehealth`)', 2).min(1),
  languages: z.array(LanguageTag).max(20).optional().describe('BCP 47 tags; default ["en"].'),
  offices: z.array(OfficeInputSchema).max(10).optional(),
  feeMin: z.number().int().min(0).max(5000).nullable().optional(),
  feeMax: z.number().int().min(0).max(5000).nullable().optional(),
  slidingScale: z.boolean().optional(),
  insurance: z.array(z.string().trim().min(1).max(100)).max(50).optional(),
  acceptingNewClients: z.boolean(),
  acceptingNewClientsVerifiedAt: z.iso
    .datetime({ offset: true })
    .nullable()
    .optional()
    .describe('When availability was last confirmed; defaults to the time of the write whenever `acceptingNewClients` is new or changes (`null` counts as not given).'),
}

const feeOrder = (value: { feeMin?: number | null; feeMax?: number | null }) =>
  value.feeMin === undefined || value.feeMin === null || value.feeMax === undefined || value.feeMax === null || value.feeMin <= value.feeMax

export const TherapistInputSchema = z
  .strictObject(therapistFields)
  .refine(feeOrder, { error: 'feeMin must not exceed feeMax', path: ['feeMin'] })
  .meta({
    id: 'TherapistCreate',
    description: 'A therapist to create, or one line of an import. Vocabulary values accept slugs, names and aliases in any case.',
    example: {
      externalId: 'ca-bbs-lmft-104233',
      name: 'Maya Okafor',
      pronouns: 'she/her',
      credentials: ['MA', 'LMFT'],
      license: { type: 'LMFT', number: 'LMFT 104233', state: 'CA', licensedStates: ['OR'] },
      bio: 'I help adults and couples who feel stuck in the same painful arguments.',
      modalities: ['Attachment based', 'EFT', 'CBT'],
      specialties: ['relationship issues', 'attachment'],
      clientFocus: ['individuals', 'couples'],
      formats: ['in_person', 'telehealth'],
      languages: ['en', 'es'],
      offices: [{ street: '2940 16th St, Suite 210', city: 'San Francisco', state: 'CA', postalCode: '94103' }],
      feeMin: 140,
      feeMax: 200,
      slidingScale: true,
      insurance: ['Aetna'],
      acceptingNewClients: true,
    },
  })
export type TherapistInput = z.infer<typeof TherapistInputSchema>

export const TherapistPatchSchema = z
  .strictObject({
    ...therapistFields,
    name: therapistFields.name.optional(),
    license: LicenseInputSchema.optional(),
    formats: therapistFields.formats.optional(),
    acceptingNewClients: therapistFields.acceptingNewClients.optional(),
    acceptingNewClientsVerifiedAt: therapistFields.acceptingNewClientsVerifiedAt.describe(
      'When availability was last confirmed. Left out, it stays, or becomes the time of the write if `acceptingNewClients` changes; `null` clears it (availability not verified).',
    ),
  })
  .refine((patch) => Object.keys(patch).length > 0, { error: 'give at least one field to change' })
  .meta({
    id: 'TherapistPatch',
    description: 'Fields to change; the rest stay. `null` clears an optional field.',
    example: { acceptingNewClients: false, feeMin: 120, insurance: ['Aetna', 'Cigna'] },
  })
export type TherapistPatch = z.infer<typeof TherapistPatchSchema>

export const TherapistIdParamsSchema = z.object({ id: z.uuid() })

export const ImportLineResultSchema = z.object({
  line: z.number().int().describe('1-based line number in the upload.'),
  externalId: z.string().nullable(),
  status: z.enum(['created', 'updated', 'unchanged', 'rejected']),
  id: z.uuid().nullable().describe('The therapist written or matched; null when rejected.'),
  errors: z
    .array(z.object({ field: z.string(), message: z.string(), code: z.string() }))
    .optional()
    .describe('Why the line was rejected.'),
})

export const ImportReportSchema = z
  .object({
    summary: z.object({
      lines: z.number().int().describe('Lines reported (blank lines are skipped).'),
      created: z.number().int().describe('Therapists created.'),
      updated: z.number().int().describe('Therapists changed (or restored after a removal).'),
      unchanged: z.number().int().describe('Lines identical to what was stored: nothing written.'),
      rejected: z.number().int().describe('Lines not written; `results` says why.'),
      complete: z
        .boolean()
        .describe(
          'false when reading stopped early, at the line limit or the byte limit: the last result (code `line_limit` or `body_too_large`) is the line where it stopped. ' +
            'Every line before it was read and is reported (those created or updated are written); it and the lines after it were not imported: send them as another import.',
        ),
    }),
    results: z.array(ImportLineResultSchema),
    validValues: z
      .record(z.string(), z.array(z.string()))
      .optional()
      .describe('When some line had an unknown vocabulary value (`unknown_term`): for each such field, every valid slug (names and aliases also work).'),
  })
  .meta({
    id: 'ImportReport',
    example: {
      summary: { lines: 3, created: 1, updated: 1, unchanged: 0, rejected: 1, complete: true },
      results: [
        { line: 1, externalId: 'ca-1', status: 'created', id: '3f0c9b7e-2a51-4c8e-9d7a-5b1e6f2c4a10' },
        { line: 2, externalId: 'ca-2', status: 'updated', id: '9a4e1d2c-7b3f-4e8a-a1c5-2d6f8b0e3c21' },
        { line: 3, externalId: 'ca-3', status: 'rejected', id: null, errors: [{ field: 'modalities.0', message: 'Unknown modality "telepathy"', code: 'unknown_term' }] },
      ],
    },
  })
export type ImportReport = z.infer<typeof ImportReportSchema>

// ---------- search ----------

/** A list parameter: repeat it (`modality=cbt&modality=eft`) or separate values with commas. */
const listParam = (description: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((value) =>
      (Array.isArray(value) ? value : [value])
        .flatMap((item) => item.split(','))
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    )
    .pipe(z.array(z.string().max(100)).max(30))
    .optional()
    .describe(description)

const queryBoolean = (description: string) =>
  z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .describe(description)

export const FACETS = ['modality', 'specialty', 'format', 'clientFocus', 'licenseType'] as const
export type FacetName = (typeof FACETS)[number]
export const SORTS = ['relevance', 'distance', 'name', 'fee'] as const
export type SortName = (typeof SORTS)[number]

export const TherapistSearchQuerySchema = z.strictObject({
  q: z.string().trim().min(1).max(200).optional().describe('Full text over name, bio, modalities and specialties; the last word also matches as a prefix. Supports "quoted phrases", `or` and `-exclusions`.'),
  modality: listParam('Modalities (slugs, names or aliases, any case), e.g. `cbt,attachment-based`.'),
  modalityMatch: z.enum(['any', 'all']).default('any').describe('`any`: at least one of the modalities; `all`: every one.'),
  specialty: listParam('Specialties; a therapist matches with any of them.'),
  clientFocus: listParam('Client focus (individuals, couples, families, teens, …); any of them.'),
  format: listParam('`in_person` and/or `telehealth`; any of them.'),
  licenseType: listParam('License types (slug or abbreviation, e.g. `lmft`, `LCSW`); any of them.'),
  language: listParam('BCP 47 tags; `es` also matches `es-MX`. Any of them.'),
  insurance: listParam('Insurance names, case-insensitive; any of them.'),
  near: z
    .string()
    .regex(/^\s*-?\d{1,2}(\.\d+)?\s*,\s*-?\d{1,3}(\.\d+)?\s*$/, { error: 'must be "latitude,longitude", e.g. 37.76,-122.42' })
    .optional()
    .describe('Search around a point: `latitude,longitude` (WGS 84).'),
  postalCode: z.string().regex(/^\d{5}(-\d{4})?$/, { error: 'must be a US ZIP code' }).optional().describe('Search around a US ZIP code’s centroid.'),
  radiusKm: z.coerce.number().gt(0).max(500).optional().describe('Radius around `near`/`postalCode` in km; default 40, at most 500.'),
  includeTelehealth: queryBoolean(
    'With a location: also list therapists who offer telehealth and are licensed in the searcher’s state (from `state`, `postalCode` or `near`), wherever their offices are.',
  ),
  state: StateCode.optional().describe('Therapists with an office in this state (two letters).'),
  city: z.string().trim().min(1).max(100).optional().describe('Therapists with an office in this city (case-insensitive).'),
  maxFee: z.coerce.number().int().min(0).max(5000).optional().describe('Lowest fee per session at most this (USD); sliding-scale therapists count when their lowest fee fits.'),
  slidingScale: queryBoolean('Only therapists who do (true) or do not (false) offer a sliding scale.'),
  acceptingNewClients: queryBoolean('Only therapists who are (true) or are not (false) accepting new clients.'),
  sort: z
    .enum(SORTS)
    .optional()
    .describe(
      'Default: `relevance` with `q`, else `distance` with a location, else `name`. `relevance` needs `q` and lists therapists whose name, ' +
        'modalities or specialties match before those matched only by their bio, each group by name; `distance` needs `near` or `postalCode`.',
    ),
  facets: listParam(`Facets to count: any of ${FACETS.join(', ')}, or \`none\`. Default: all, on the first page only (later pages repeat no counts).`),
  ...PageQuerySchema.shape,
})
export type TherapistSearchQuery = z.infer<typeof TherapistSearchQuerySchema>

export const MatchSchema = z.object({
  modalities: z.array(z.string()).describe('Requested modalities this therapist offers.'),
  specialties: z.array(z.string()).describe('Requested specialties this therapist treats.'),
  distanceKm: z.number().nullable().describe('Distance from the search point to the nearest office.'),
  via: z
    .enum(['office', 'telehealth'])
    .nullable()
    .describe('With a location: `office` within the radius, or `telehealth` licensed in the searcher’s state.'),
  snippet: z.string().nullable().describe('With `q`: an excerpt of the bio, matched words in `<mark>…</mark>`; the rest is HTML-escaped.'),
  rank: z.number().nullable().describe('With `q`: the text-search rank of the match (ts_rank; higher is better). Results are ordered by tier (name, modalities or specialties first, then bio), then name.'),
})

export const TherapistHitSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    pronouns: z.string().nullable(),
    credentials: z.array(z.string()),
    licenseType: z.string(),
    licenseState: z.string(),
    modalities: z.array(z.string()),
    specialties: z.array(z.string()),
    clientFocus: z.array(z.string()),
    formats: z.array(z.string()),
    languages: z.array(z.string()),
    feeMin: z.number().int().nullable(),
    feeMax: z.number().int().nullable(),
    slidingScale: z.boolean(),
    acceptingNewClients: z.boolean(),
    acceptingNewClientsVerifiedAt: z.iso.datetime().nullable(),
    location: z
      .object({ city: z.string(), state: z.string(), postalCode: z.string() })
      .nullable()
      .describe('The nearest office with a location search, else the first office; null for telehealth-only therapists.'),
    match: MatchSchema,
  })
  .meta({ id: 'TherapistHit' })

const FacetCountSchema = z.object({ value: z.string(), count: z.number().int() })

export const FacetsSchema = z
  .object(Object.fromEntries(FACETS.map((name) => [name, z.array(FacetCountSchema).optional()])) as Record<FacetName, z.ZodOptional<z.ZodArray<typeof FacetCountSchema>>>)
  .describe(
    'Disjunctive counts: each facet applies every filter except its own. Every term of the facet’s vocabulary is listed, zeros included, ' +
      'biggest count first (ties by value).',
  )

export const TherapistSearchResultSchema = pageOf(TherapistHitSchema)
  .extend({
    facets: FacetsSchema.nullable().describe('Null on later pages and with `facets=none`.'),
    applied: z
      .object({
        sort: z.enum(SORTS),
        modality: z.array(z.string()),
        specialty: z.array(z.string()),
        clientFocus: z.array(z.string()),
        format: z.array(z.string()),
        licenseType: z.array(z.string()),
        location: z
          .object({ latitude: z.number(), longitude: z.number(), radiusKm: z.number(), state: z.string().nullable() })
          .nullable(),
      })
      .describe('How the request was read: vocabulary values as slugs, the sort used, the search point.'),
  })
  .meta({
    id: 'TherapistSearchResult',
    example: {
      data: [
        {
          id: '3f0c9b7e-2a51-4c8e-9d7a-5b1e6f2c4a10',
          name: 'Maya Okafor',
          pronouns: 'she/her',
          credentials: ['MA', 'LMFT'],
          licenseType: 'lmft',
          licenseState: 'CA',
          modalities: ['attachment-based', 'eft', 'cbt'],
          specialties: ['relationship-issues', 'attachment', 'communication'],
          clientFocus: ['individuals', 'couples'],
          formats: ['in_person', 'telehealth'],
          languages: ['en', 'es'],
          feeMin: 140,
          feeMax: 200,
          slidingScale: true,
          acceptingNewClients: true,
          acceptingNewClientsVerifiedAt: '2026-11-20T17:04:00.000Z',
          location: { city: 'San Francisco', state: 'CA', postalCode: '94103' },
          match: { modalities: ['attachment-based'], specialties: [], distanceKm: 1.6, via: 'office', snippet: null, rank: null },
        },
      ],
      page: { nextCursor: 'eyJiIjowLCJkIjoxNjA0LjIsImlkIjoiM2YwYzliN2UifQ' },
      facets: {
        modality: [
          { value: 'cbt', count: 41 },
          { value: 'attachment-based', count: 12 },
        ],
        specialty: [{ value: 'anxiety', count: 7 }],
        format: [
          { value: 'in_person', count: 12 },
          { value: 'telehealth', count: 9 },
        ],
        clientFocus: [{ value: 'couples', count: 6 }],
        licenseType: [{ value: 'lmft', count: 5 }],
      },
      applied: {
        sort: 'distance',
        modality: ['attachment-based'],
        specialty: [],
        clientFocus: [],
        format: [],
        licenseType: [],
        location: { latitude: 37.7509, longitude: -122.4153, radiusKm: 25, state: 'CA' },
      },
    },
  })
export type TherapistSearchResult = z.infer<typeof TherapistSearchResultSchema>
