import type { JournalEntry as JournalEntryRow } from '../../generated/prisma/client.js'
import { type JournalKeyring, open, seal } from './journal-crypto.js'
import { CONFLICT_FIELDS, type ConflictFieldName, ENTRY_FIELDS, type EntryFieldName } from './journal-fields.js'
import type { CreateJournalEntry, JournalEntry, UpdateJournalEntry } from './journal-schemas.js'
import { type ConflictResponse, groupOf, isConflictResponse } from './journal-vocabulary.js'

/**
 * Between an entry's row, what it says and what the API shows, driven by the field table in
 * journal-fields.ts: the one place that seals text on the way in and opens it on the way out, shared
 * by the service (requests, export) and key rotation.
 */

export interface Conflict {
  trigger: string | null
  response: ConflictResponse | null
  responseNote: string | null
  outcome: string | null
  intensity: number | null
}

/** What an entry says, decrypted. */
export interface Content {
  occurredAt: Date
  title: string | null
  body: string
  mood: number
  emotions: string[]
  tags: string[]
  conflict: Conflict | null
}

// The table and these types name the same fields: adding to one without the other fails to compile.
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never
const entryFieldsMatch: SameKeys<EntryFieldName, Exclude<keyof Content, 'conflict'>> = true
const conflictFieldsMatch: SameKeys<ConflictFieldName, keyof Conflict> = true
void [entryFieldsMatch, conflictFieldsMatch]

type EntryField = (typeof ENTRY_FIELDS)[number]
type Field = EntryField | (typeof CONFLICT_FIELDS)[number]
type Columns = Pick<JournalEntryRow, Field['column'] | 'keyId'>

/** An object with one value per field; the table and the types above agree (checked at compile time). */
const byField = <T, F extends Field = Field>(fields: readonly F[], value: (field: F) => unknown): T =>
  Object.fromEntries(fields.map((field) => [field.name, value(field)])) as unknown as T

export const EMPTY_CONFLICT: Conflict = { trigger: null, response: null, responseNote: null, outcome: null, intensity: null }

/** An empty conflict part is no conflict part. */
export function normalizeConflict(conflict: Conflict | null): Conflict | null {
  if (conflict === null) return null
  return Object.values(conflict).every((value) => value === null) ? null : conflict
}

/** Every column an entry's content is stored in, its text sealed for this row and user with the current key. */
export function toColumns(keyring: JournalKeyring, rowId: string, userId: string, content: Content): Columns {
  const columns: Record<string, unknown> = { keyId: keyring.current.id }
  const put = (field: Field, value: unknown) => {
    columns[field.column] = field.encrypted && value !== null ? seal(keyring, { field: field.name, rowId, userId }, value as string) : value
  }
  for (const field of ENTRY_FIELDS) put(field, content[field.name])
  const conflict = content.conflict ?? EMPTY_CONFLICT
  for (const field of CONFLICT_FIELDS) put(field, conflict[field.name])
  return columns as Columns
}

/** One column's value, opened when the field is encrypted. */
function read(keyring: JournalKeyring, row: JournalEntryRow, field: Field): unknown {
  const value = row[field.column]
  return field.encrypted && value !== null ? open(keyring, row.keyId, { field: field.name, rowId: row.id, userId: row.userId }, value as Uint8Array) : value
}

/**
 * What a row says, decrypted. Any value that does not authenticate fails the whole read
 * (JournalDecryptionError): an entry is returned whole and true, or not at all.
 */
export function toContent(keyring: JournalKeyring, row: JournalEntryRow): Content {
  const entry = byField<Omit<Content, 'conflict'>>(ENTRY_FIELDS, (field) => read(keyring, row, field))
  const conflict = byField<Conflict>(CONFLICT_FIELDS, (field) => read(keyring, row, field))
  return { ...entry, conflict: normalizeConflict({ ...conflict, response: isConflictResponse(conflict.response) ? conflict.response : null }) }
}

/** The row's encrypted columns, opened and sealed again with the current key (key rotation). */
export function resealedColumns(keyring: JournalKeyring, row: JournalEntryRow): Partial<Columns> {
  const columns: Record<string, unknown> = { keyId: keyring.current.id }
  for (const field of [...ENTRY_FIELDS, ...CONFLICT_FIELDS]) {
    if (!field.encrypted) continue
    const text = read(keyring, row, field)
    columns[field.column] = text === null ? null : seal(keyring, { field: field.name, rowId: row.id, userId: row.userId }, text as string)
  }
  return columns
}

/** The entry as the API shows it. */
export function toEntry(keyring: JournalKeyring, row: JournalEntryRow): JournalEntry {
  const { occurredAt, conflict, ...texts } = toContent(keyring, row)
  return {
    id: row.id,
    occurredAt: occurredAt.toISOString(),
    ...texts,
    conflict: conflict && { ...conflict, responseGroup: conflict.response === null ? null : groupOf(conflict.response) },
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}

type ConflictInput = NonNullable<CreateJournalEntry['conflict']>

/** Given parts of a conflict replace those of `base`, null clears one, absent parts stay. */
function mergeConflict(base: Conflict, given: ConflictInput): Conflict | null {
  return normalizeConflict(byField<Conflict, (typeof CONFLICT_FIELDS)[number]>(CONFLICT_FIELDS, ({ name }) => (given[name] === undefined ? base[name] : given[name])))
}

/** A new entry's content: absent optional fields are null, `occurredAt` defaults to now. */
export function fromInput(input: CreateJournalEntry, now: Date): Content {
  const entry = byField<Omit<Content, 'conflict'>, EntryField>(ENTRY_FIELDS, ({ name }) => input[name] ?? null)
  return { ...entry, occurredAt: input.occurredAt ?? now, conflict: input.conflict ? mergeConflict(EMPTY_CONFLICT, input.conflict) : null }
}

/** Applies a PATCH: given fields replace, null clears, absent stays; the conflict part merges part by part. */
export function applyChanges(current: Content, changes: UpdateJournalEntry): Content {
  const entry = byField<Omit<Content, 'conflict'>, EntryField>(ENTRY_FIELDS, ({ name }) => (changes[name] === undefined ? current[name] : changes[name]))
  const conflict =
    changes.conflict === undefined ? current.conflict : changes.conflict === null ? null : mergeConflict(current.conflict ?? EMPTY_CONFLICT, changes.conflict)
  return { ...entry, conflict }
}
