/**
 * The therapist row: each column of `therapist` that a write sets, once, with its SQL type and where
 * it shows in the API — the profile (`profile`, a path in TherapistSchema) and the search hit's card
 * (`card`, a key of TherapistHitSchema, written by the `therapist_card` trigger). The write statements
 * (therapist-write.ts), the row type they take, and the profile's JSON (directory-service.ts) are made
 * from this list; tests/integration/directory-row.test.ts ties it to the table, the trigger's card
 * and the response schemas, so a new attribute that misses one of them fails there.
 */

type SqlType = 'text' | 'text[]' | 'int' | 'bool'

interface ColumnDefinition {
  readonly column: string
  readonly type: SqlType
  readonly nullable?: true
  readonly profile?: string
  readonly card?: string
}

export const THERAPIST_COLUMNS = [
  { column: 'external_id', type: 'text', nullable: true, profile: 'externalId' },
  { column: 'name', type: 'text', profile: 'name', card: 'name' },
  { column: 'pronouns', type: 'text', nullable: true, profile: 'pronouns', card: 'pronouns' },
  { column: 'credentials', type: 'text[]', profile: 'credentials', card: 'credentials' },
  { column: 'license_type', type: 'text', profile: 'license.type', card: 'licenseType' },
  { column: 'license_number', type: 'text', nullable: true, profile: 'license.number' },
  { column: 'license_state', type: 'text', profile: 'license.state', card: 'licenseState' },
  { column: 'licensed_states', type: 'text[]', profile: 'license.licensedStates' },
  { column: 'npi', type: 'text', nullable: true, profile: 'npi' },
  { column: 'bio', type: 'text', profile: 'bio' },
  { column: 'years_in_practice', type: 'int', nullable: true, profile: 'yearsInPractice' },
  { column: 'modalities', type: 'text[]', profile: 'modalities', card: 'modalities' },
  { column: 'specialties', type: 'text[]', profile: 'specialties', card: 'specialties' },
  { column: 'client_focus', type: 'text[]', profile: 'clientFocus', card: 'clientFocus' },
  { column: 'formats', type: 'text[]', profile: 'formats', card: 'formats' },
  { column: 'languages', type: 'text[]', profile: 'languages', card: 'languages' },
  { column: 'fee_min', type: 'int', nullable: true, profile: 'feeMin', card: 'feeMin' },
  { column: 'fee_max', type: 'int', nullable: true, profile: 'feeMax', card: 'feeMax' },
  { column: 'sliding_scale', type: 'bool', profile: 'slidingScale', card: 'slidingScale' },
  { column: 'insurance', type: 'text[]', profile: 'insurance' },
  { column: 'accepting_new_clients', type: 'bool', profile: 'acceptingNewClients', card: 'acceptingNewClients' },
  // Derived by the write path from the content above (offices, vocabulary), for search.
  { column: 'office_states', type: 'text[]' },
  { column: 'primary_city', type: 'text', nullable: true },
  { column: 'primary_state', type: 'text', nullable: true },
  { column: 'primary_postal_code', type: 'text', nullable: true },
  { column: 'search_keywords', type: 'text' },
  { column: 'content_hash', type: 'text' },
] as const satisfies readonly ColumnDefinition[]

/** Card members that are not one column each (the trigger formats the verification date). */
export const CARD_EXTRAS = ['id', 'acceptingNewClientsVerifiedAt'] as const

type Column = (typeof THERAPIST_COLUMNS)[number]
type ValueOf<T extends SqlType> = T extends 'text' ? string : T extends 'text[]' ? string[] : T extends 'int' ? number : boolean

/** The written columns as the write statements take them (snake_case, one JSON object per therapist). */
export type TherapistColumns = { [C in Column as C['column']]: C extends { nullable: true } ? ValueOf<C['type']> | null : ValueOf<C['type']> }

/** The column names, in the order of THERAPIST_COLUMNS. */
export const COLUMN_NAMES: readonly Column['column'][] = THERAPIST_COLUMNS.map((column) => column.column)

/** `name type, …` of the written columns, for jsonb_to_recordset. */
export const COLUMN_TYPES = THERAPIST_COLUMNS.map(({ column, type }) => `${column} ${type}`).join(', ')

const isoTime = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

/** Profile members that are not one column each, as SQL over `t` (the therapist) and `lt` (its license type's vocabulary term). */
const PROFILE_EXTRAS: Record<string, string> = {
  id: 't.id',
  'license.name': 'lt.name',
  'license.nuccCode': 'lt.nucc_code',
  offices: `COALESCE((SELECT json_agg(o) FROM (SELECT o.street, o.city, o.state, o.postal_code AS "postalCode", o.latitude, o.longitude
                      FROM therapist_office o WHERE o.therapist_id = t.id ORDER BY o.position) o), '[]'::json)`,
  acceptingNewClientsVerifiedAt: isoTime('t.accepting_verified_at'),
  createdAt: isoTime('t.created_at'),
  updatedAt: isoTime('t.updated_at'),
}

/**
 * The profile as JSON text built by Postgres, member by member in the order of the response schema
 * (`shape`, with `nested` for an object member such as the license): each member from its column, or
 * from PROFILE_EXTRAS. A member with neither is a programming error, thrown when the module loads.
 */
export function profileJsonSql(shape: readonly string[], nested: Record<string, readonly string[]>): string {
  const byPath = new Map<string, string>(Object.entries(PROFILE_EXTRAS))
  for (const definition of THERAPIST_COLUMNS as readonly ColumnDefinition[]) if (definition.profile) byPath.set(definition.profile, `t.${definition.column}`)
  const select = (members: readonly string[], prefix: string): string =>
    members
      .map((member) => {
        const path = prefix + member
        const inner = nested[member]
        if (inner) return `(SELECT row_to_json(n) FROM (SELECT ${select(inner, `${path}.`)}) n) AS "${member}"`
        const sql = byPath.get(path)
        if (sql === undefined) throw new Error(`profile member ${path} has no column in THERAPIST_COLUMNS nor in PROFILE_EXTRAS`)
        return `${sql} AS "${member}"`
      })
      .join(', ')
  return `(SELECT row_to_json(p) FROM (SELECT ${select(shape, '')}) p)::text`
}
