import { createHash, randomUUID } from 'node:crypto'
import type { FieldError } from '../../lib/errors.js'
import type { Therapist, TherapistInput } from './directory-schemas.js'
import { lookupPostalCode } from './postal-codes.js'
import { COLUMN_NAMES, COLUMN_TYPES, type TherapistColumns } from './therapist-row.js'
import { unknownTermErrors, type Vocabulary, type VocabularyKind } from './vocabulary.js'

/**
 * The one write path of the directory. Create, patch and import all turn their input into the
 * same normalized row (vocabulary values as slugs, offices with coordinates, derived search
 * columns, a content hash) and write it with one SQL statement per batch: the therapist row and
 * its offices change together or not at all.
 */

export interface OfficeRow {
  position: number
  street: string
  city: string
  state: string
  postal_code: string
  latitude: number
  longitude: number
}

/** A therapist row as the write statements take it (JSON, snake_case, one element per line): the columns of therapist-row.ts and how to write them. */
export interface TherapistRow extends TherapistColumns {
  ord: number
  /** The row's id: a fresh one for inserts, the existing one for patches. */
  id: string
  accepting_verified_at: string | null
  /** A patch's `acceptingNewClientsVerifiedAt: null`: store no date, whatever `accepting_verified_at` and the stored row say. */
  clear_verified_at: boolean
  offices: OfficeRow[]
}

export type NormalizeResult =
  | { ok: true; row: TherapistRow }
  /** `validValues`: for each field with unknown vocabulary values, every valid slug (as a search's 400 gives them). */
  | { ok: false; errors: FieldError[]; validValues: Record<string, string[]> }

export interface NormalizeOptions {
  /** Position in the batch, to map result rows back (import line number). */
  ord?: number
  /** The row's id: the existing one for a patch, else a new one. */
  id?: string
  /** A patch that clears the verification date (`acceptingNewClientsVerifiedAt: null`). */
  clearVerifiedAt?: boolean
}

/**
 * Validates what the schema cannot (vocabulary values, ZIP codes without coordinates, formats
 * that need an office) and derives the stored columns.
 * @param input - already shape-checked by TherapistInputSchema
 */
export async function normalizeTherapist(input: TherapistInput, vocabulary: Vocabulary, { ord = 0, id = randomUUID(), clearVerifiedAt = false }: NormalizeOptions = {}): Promise<NormalizeResult> {
  const errors: FieldError[] = []
  const validValues: Record<string, string[]> = {}
  /** Slugs of a list field; `at` names where an unknown value sat (`modalities.1`). */
  const terms = (field: string, kind: VocabularyKind, values: readonly string[], at = (index: number) => `${field}.${index}`): string[] => {
    const { slugs, unknown } = vocabulary.resolveAll(kind, values)
    if (unknown.length > 0) {
      errors.push(...unknownTermErrors(kind, unknown.map(({ index, value }) => ({ field: at(index), value })), 'body'))
      validValues[field] = vocabulary.slugs(kind)
    }
    return slugs
  }
  const modalities = terms('modalities', 'modality', input.modalities ?? [])
  const specialties = terms('specialties', 'specialty', input.specialties ?? [])
  const clientFocus = terms('clientFocus', 'client_focus', input.clientFocus ?? [])
  const formats = terms('formats', 'format', input.formats)
  const [licenseType] = terms('license.type', 'license_type', [input.license.type], () => 'license.type')

  const offices: OfficeRow[] = []
  for (const [index, office] of (input.offices ?? []).entries()) {
    let { latitude, longitude } = office
    if (latitude === undefined || longitude === undefined) {
      const centroid = await lookupPostalCode(office.postalCode)
      if (!centroid) {
        errors.push({ in: 'body', field: `offices.${index}.postalCode`, message: `Unknown ZIP code ${office.postalCode}; give latitude and longitude`, code: 'unknown_postal_code' })
        continue
      }
      latitude = centroid.latitude
      longitude = centroid.longitude
    }
    offices.push({ position: index + 1, street: office.street, city: office.city, state: office.state, postal_code: office.postalCode, latitude, longitude })
  }
  if (formats.includes('in_person') && (input.offices ?? []).length === 0) {
    errors.push({ in: 'body', field: 'offices', message: 'in_person needs at least one office', code: 'office_required' })
  }
  if (errors.length > 0 || licenseType === undefined) return { ok: false, errors, validValues }

  const licensedStates = [...new Set([input.license.state, ...(input.license.licensedStates ?? [])])].sort()
  const content = {
    external_id: input.externalId ?? null,
    name: input.name,
    pronouns: input.pronouns ?? null,
    credentials: input.credentials ?? [],
    license_type: licenseType,
    license_number: input.license.number ?? null,
    license_state: input.license.state,
    licensed_states: licensedStates,
    npi: input.npi ?? null,
    bio: input.bio ?? '',
    years_in_practice: input.yearsInPractice ?? null,
    modalities,
    specialties,
    client_focus: clientFocus,
    formats,
    languages: [...new Set(input.languages ?? ['en'])],
    insurance: [...new Set(input.insurance ?? [])],
    fee_min: input.feeMin ?? null,
    fee_max: input.feeMax ?? null,
    sliding_scale: input.slidingScale ?? false,
    accepting_new_clients: input.acceptingNewClients,
    accepting_verified_at: input.acceptingNewClientsVerifiedAt ? new Date(input.acceptingNewClientsVerifiedAt).toISOString() : null,
    offices,
  }
  const row: TherapistRow = {
    ord,
    id,
    ...content,
    office_states: [...new Set(offices.map((office) => office.state))].sort(),
    primary_city: offices[0]?.city ?? null,
    primary_state: offices[0]?.state ?? null,
    primary_postal_code: offices[0]?.postal_code ?? null,
    clear_verified_at: clearVerifiedAt,
    search_keywords: keywordText([...vocabulary.keywords('modality', modalities), ...vocabulary.keywords('specialty', specialties)]),
    // Clearing the date must differ from leaving it alone (both have no date in `content`), or the write would be skipped
    // as unchanged; other hashes stay as they were, so re-imports of unchanged lines stay `unchanged`.
    content_hash: createHash('sha256')
      .update(JSON.stringify(clearVerifiedAt ? { ...content, accepting_verified_at: 'cleared' } : content))
      .digest('base64url'),
  }
  return { ok: true, row }
}

/**
 * Names and aliases of the therapist's terms as distinct words: "Cognitive Behavioral Therapy",
 * "CBT", "Cognitive-Behavioral Therapy" → "cognitive behavioral therapy cbt". Repeats add nothing
 * to matching but bloat the stored tsvector; at 100k therapists they pushed it out of line (TOAST)
 * and made ranking read twice the pages.
 */
function keywordText(phrases: string[]): string {
  const words = new Set<string>()
  for (const phrase of phrases) for (const word of phrase.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) words.add(word)
  return [...words].join(' ')
}

/** A stored profile as input again, so a patch can be merged into it and re-validated whole. */
export function profileToInput(profile: Therapist): TherapistInput {
  return {
    externalId: profile.externalId,
    name: profile.name,
    pronouns: profile.pronouns,
    credentials: profile.credentials,
    license: { type: profile.license.type, number: profile.license.number, state: profile.license.state, licensedStates: profile.license.licensedStates },
    npi: profile.npi,
    bio: profile.bio,
    yearsInPractice: profile.yearsInPractice,
    modalities: profile.modalities,
    specialties: profile.specialties,
    clientFocus: profile.clientFocus,
    formats: profile.formats,
    languages: profile.languages,
    offices: profile.offices,
    feeMin: profile.feeMin,
    feeMax: profile.feeMax,
    slidingScale: profile.slidingScale,
    insurance: profile.insurance,
    acceptingNewClients: profile.acceptingNewClients,
    // Left out on purpose: the write keeps the stored date unless availability changes.
    acceptingNewClientsVerifiedAt: undefined,
  }
}

const COLUMNS = COLUMN_NAMES

const INPUT = `input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(ord int, id uuid, ${COLUMN_TYPES}, accepting_verified_at timestamptz, clear_verified_at bool, offices jsonb)
)`

const SET_FROM_INPUT = `${COLUMNS.map((column) => `${column} = i.${column}`).join(', ')},
    accepting_verified_at = CASE WHEN i.clear_verified_at THEN NULL ELSE COALESCE(i.accepting_verified_at,
      CASE WHEN t.accepting_new_clients = i.accepting_new_clients THEN t.accepting_verified_at ELSE now() END) END,
    offices_hash = md5(i.offices::text), updated_at = now(), deleted_at = NULL`

/**
 * `offices_hash`: the offices live in their own table, so the change log (a trigger comparing old and
 * new rows, see the directory_changes migration) tells that they changed by this hash of them.
 */

/** New rows take the id chosen in Node (`row.id`), so each inserted row maps back to its line. */
const INSERT_FROM_INPUT = `INSERT INTO therapist (id, ${COLUMNS.join(', ')}, accepting_verified_at, offices_hash)
    SELECT i.id, ${COLUMNS.map((column) => `i.${column}`).join(', ')}, COALESCE(i.accepting_verified_at, now()), md5(i.offices::text) FROM input i`

const OFFICES = `removed_offices AS (
  DELETE FROM therapist_office o USING updated u WHERE o.therapist_id = u.id
),
added_offices AS (
  INSERT INTO therapist_office (therapist_id, position, street, city, state, postal_code, latitude, longitude)
  SELECT w.id, off.position, off.street, off.city, off.state, off.postal_code, off.latitude, off.longitude
  FROM written w JOIN input i ON i.ord = w.ord
  CROSS JOIN LATERAL jsonb_to_recordset(i.offices) AS off(position int, street text, city text, state text, postal_code text, latitude float8, longitude float8)
)`

/**
 * Upserts a batch by externalId in one statement. A row whose content hash is unchanged (and that
 * is not soft-deleted) is not written at all: `unchanged`. A soft-deleted one comes back.
 * Result rows: (ord, status, id), status `created` | `updated` | `unchanged` | `conflict` (another
 * writer created the same externalId at the same moment).
 */
export const UPSERT_BY_EXTERNAL_ID = `WITH ${INPUT},
existing AS (
  SELECT t.id, t.external_id FROM therapist t JOIN input i ON t.external_id = i.external_id FOR UPDATE OF t
),
updated AS (
  UPDATE therapist t SET ${SET_FROM_INPUT}
  FROM input i
  WHERE t.external_id = i.external_id AND (t.content_hash <> i.content_hash OR t.deleted_at IS NOT NULL)
  RETURNING t.id, i.ord
),
inserted AS (
  ${INSERT_FROM_INPUT}
  WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.external_id = i.external_id)
  ON CONFLICT (external_id) DO NOTHING
  RETURNING id
),
written AS (
  SELECT u.id, u.ord FROM updated u
  UNION ALL
  SELECT n.id, i.ord FROM inserted n JOIN input i ON i.id = n.id
),
${OFFICES}
SELECT i.ord,
  CASE WHEN n.id IS NOT NULL THEN 'created' WHEN u.id IS NOT NULL THEN 'updated' WHEN e.id IS NOT NULL THEN 'unchanged' ELSE 'conflict' END AS status,
  COALESCE(n.id, u.id, e.id) AS id
FROM input i
LEFT JOIN inserted n ON n.id = i.id
LEFT JOIN updated u ON u.ord = i.ord
LEFT JOIN existing e ON e.external_id = i.external_id
ORDER BY i.ord`

/** Inserts new therapists (create; imports and the seed upsert instead). A taken externalId fails the statement. */
export const INSERT_NEW = `WITH ${INPUT},
updated AS (SELECT NULL::uuid AS id WHERE false), -- nothing to replace: OFFICES removes the offices of updated rows
inserted AS (
  ${INSERT_FROM_INPUT}
  RETURNING id
),
written AS (SELECT n.id, i.ord FROM inserted n JOIN input i ON i.id = n.id),
${OFFICES}
SELECT w.ord, 'created' AS status, w.id FROM written w ORDER BY w.ord`

/**
 * Replaces one live therapist by id (patch), only if its content hash is still `$2`, the one the
 * patch was merged into; no row back when it was changed meanwhile, deleted, or does not exist.
 */
export const UPDATE_BY_ID = `WITH ${INPUT},
updated AS (
  UPDATE therapist t SET ${SET_FROM_INPUT}
  FROM input i
  WHERE t.id = i.id AND t.deleted_at IS NULL AND t.content_hash = $2::text AND t.content_hash <> i.content_hash
  RETURNING t.id, i.ord
),
written AS (SELECT id, ord FROM updated),
${OFFICES}
SELECT u.ord, 'updated' AS status, u.id FROM updated u`
