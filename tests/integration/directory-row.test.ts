import { describe, expect, it } from 'vitest'
import { LicenseSchema, TherapistHitSchema, TherapistInputSchema, TherapistSchema } from '../../src/modules/directory/directory-schemas.js'
import { CARD_EXTRAS, THERAPIST_COLUMNS } from '../../src/modules/directory/therapist-row.js'
import { createTherapist, isolatedDirectory } from '../helpers/directory.js'

/**
 * therapist-row.ts is the one list of the therapist's columns; this ties it to what it must agree
 * with and cannot import: the table (migrations), the card the trigger writes, and the API's schemas.
 * A new attribute added to some of them and not to the others fails here.
 */

/** Columns the write path does not set from a therapist's content: keys, kept-by-trigger caches, timestamps. */
const NOT_WRITTEN = [
  'id', 'row_no', 'change_seq', 'card_json', 'location_json', 'search_vector', 'tags_vector',
  'modality_bits', 'specialty_bits', 'format_bits', 'client_focus_bits', 'license_bits',
  'accepting_verified_at', 'offices_hash', 'created_at', 'updated_at', 'deleted_at',
]
const SQL_TYPES = { text: 'text', 'text[]': 'ARRAY', int: 'integer', bool: 'boolean' } as const

describe('the therapist row', () => {
  const ctx = isolatedDirectory()

  it('lists every column of the table the write path sets, with its type and nullability', async () => {
    const columns = await ctx.scratch().db.query<{ name: string; type: string; nullable: 'YES' | 'NO' }>(
      `SELECT column_name AS name, data_type AS type, is_nullable AS nullable FROM information_schema.columns WHERE table_name = 'therapist'`,
    )
    const byName = new Map(columns.map((column) => [column.name, column]))
    for (const definition of THERAPIST_COLUMNS) {
      const column = byName.get(definition.column)
      expect(column, definition.column).toBeDefined()
      expect(column?.type, definition.column).toBe(SQL_TYPES[definition.type])
      // Arrays are nullable in the table but always written; scalars say it in the list.
      if (definition.type !== 'text[]') expect(column?.nullable === 'YES', definition.column).toBe('nullable' in definition)
    }
    const listed = new Set<string>([...THERAPIST_COLUMNS.map((definition) => definition.column), ...NOT_WRITTEN])
    expect(columns.map((column) => column.name).filter((name) => !listed.has(name))).toEqual([])
  })

  it('puts in the card exactly the members the list marks, which are the hit schema’s static members', async () => {
    const id = await createTherapist(ctx.app(), {
      name: 'Row Test', license: { type: 'lmft', state: 'CA' }, formats: ['telehealth'], acceptingNewClients: true,
    })
    const [row] = await ctx.scratch().db.query<{ card: string }>(`SELECT card_json AS card FROM therapist WHERE id = $1::uuid`, [id])
    // The trigger leaves the card open; the search appends location and match.
    const card = Object.keys(JSON.parse(`${row?.card ?? ''}}`) as object).sort()
    const marked = [...THERAPIST_COLUMNS.flatMap((definition) => ('card' in definition ? [definition.card] : [])), ...CARD_EXTRAS].sort()
    expect(card).toEqual(marked)
    expect(card).toEqual(Object.keys(TherapistHitSchema.shape).filter((key) => key !== 'location' && key !== 'match').sort())
  })

  it('maps every profile member it lists to a member of the profile schema, and every input field to the row', () => {
    const profilePaths = new Set([
      ...Object.keys(TherapistSchema.shape).filter((key) => key !== 'license'),
      ...Object.keys(LicenseSchema.shape).map((key) => `license.${key}`),
    ])
    for (const definition of THERAPIST_COLUMNS) if ('profile' in definition) expect(profilePaths.has(definition.profile), definition.profile).toBe(true)
    // Every field a create or an import line takes is stored in a column of the list (offices and the
    // verification date are written beside it).
    const stored = new Set<string>(THERAPIST_COLUMNS.flatMap((definition) => ('profile' in definition ? [definition.profile] : [])))
    const inputPaths = Object.keys(TherapistInputSchema.shape).flatMap((key) =>
      key === 'license' ? ['license.type', 'license.number', 'license.state', 'license.licensedStates'] : [key],
    )
    expect(inputPaths.filter((path) => !stored.has(path) && path !== 'offices' && path !== 'acceptingNewClientsVerifiedAt')).toEqual([])
  })
})

describe('the facet bitmasks', () => {
  const ctx = isolatedDirectory()

  it('refuse a 64th term of a vocabulary, whose bit would wrap into another term’s', async () => {
    const insert = (sortOrder: number) =>
      ctx.scratch().db.query(`INSERT INTO vocabulary_term (kind, slug, name, aliases, description, sort_order) VALUES ('modality', $1, $1, '{}', 'test', $2)`, [`test-${sortOrder}`, sortOrder])
    await expect(insert(64)).rejects.toMatchObject({ code: '23514' })
    await expect(insert(0)).rejects.toMatchObject({ code: '23514' })
    await insert(63)
    await ctx.scratch().db.query(`DELETE FROM vocabulary_term WHERE slug = 'test-63'`)
  })
})
