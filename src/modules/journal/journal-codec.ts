import type { JournalEntry as JournalEntryRow } from '../../generated/prisma/client.js'
import { JournalDecryptionError, type JournalKeyring, open, seal } from './journal-crypto.js'
import { CONFLICT_FIELDS, type ConflictField, type ConflictFieldName, ENTRY_FIELDS, type EntryField, type EntryFieldName, JOURNAL_FIELDS } from './journal-fields.js'
import type { CreateJournalEntry, JournalEntry, UpdateJournalEntry } from './journal-schemas.js'
import { groupOf, isConflictResponse } from './journal-vocabulary.js'

/**
 * Between an entry's row, what it says and what the API shows, driven by the field table in
 * journal-fields.ts: the one place that seals text on the way in and opens it on the way out, shared
 * by the service (requests, export) and key rotation.
 */

export type Conflict = Omit<NonNullable<JournalEntry['conflict']>, 'responseGroup'>
/** What an entry says, decrypted. */
export type Content = Pick<JournalEntry, Exclude<EntryFieldName, 'occurredAt'>> & { occurredAt: Date; conflict: Conflict | null }

// The table and the API's entry name the same fields: adding to one without the other fails to compile.
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never
void [true satisfies SameKeys<ConflictFieldName, keyof Conflict>, true satisfies SameKeys<EntryFieldName, Exclude<keyof JournalEntry, 'id' | 'conflict' | 'createdAt' | 'updatedAt' | 'unreadable' | 'unreadableCode'>>]

type Field = (typeof JOURNAL_FIELDS)[number]
type Columns = Pick<JournalEntryRow, Field['column'] | 'keyId'>

/** An object with one value per field (the types above agree with the table). */
const byField = <T, F extends Field = Field>(fields: readonly F[], value: (field: F) => unknown): T =>
  Object.fromEntries(fields.map((field) => [field.name, value(field)])) as unknown as T

const EMPTY_CONFLICT: Conflict = { trigger: null, response: null, responseNote: null, outcome: null, intensity: null }

/** An empty conflict part is no conflict part. */
const normalizeConflict = (conflict: Conflict): Conflict | null => (Object.values(conflict).every((value) => value === null) ? null : conflict)

/** A field's value as stored: sealed for this row and user with the current key when the field is encrypted. */
const stored = (keyring: JournalKeyring, rowId: string, userId: string, field: Field, value: unknown) =>
  field.encrypted && value !== null ? seal(keyring, { field: field.name, rowId, userId }, value as string) : value

/** A column's value as written: opened when the field is encrypted. Fails (JournalDecryptionError) unless it authenticates. */
const opened = (keyring: JournalKeyring, row: JournalEntryRow, field: Field): unknown =>
  field.encrypted && row[field.column] !== null ? open(keyring, row.keyId, { field: field.name, rowId: row.id, userId: row.userId }, row[field.column] as Uint8Array) : row[field.column]

/** Every column an entry's content is stored in. */
export function toColumns(keyring: JournalKeyring, rowId: string, userId: string, content: Content): Columns {
  const conflict = content.conflict ?? EMPTY_CONFLICT
  const columns = [
    ...ENTRY_FIELDS.map((field) => [field.column, stored(keyring, rowId, userId, field, content[field.name])]),
    ...CONFLICT_FIELDS.map((field) => [field.column, stored(keyring, rowId, userId, field, conflict[field.name])]),
  ]
  return { keyId: keyring.current.id, ...Object.fromEntries(columns) } as Columns
}

/** What a row says, decrypted: an entry is returned whole and true, or not at all. */
export function toContent(keyring: JournalKeyring, row: JournalEntryRow): Content {
  const conflict = byField<Conflict>(CONFLICT_FIELDS, (field) => opened(keyring, row, field))
  const response = isConflictResponse(conflict.response) ? conflict.response : null
  return { ...byField<Omit<Content, 'conflict'>>(ENTRY_FIELDS, (field) => opened(keyring, row, field)), conflict: normalizeConflict({ ...conflict, response }) }
}

/** The row's encrypted columns, opened and sealed again with the current key (key rotation). */
export function resealedColumns(keyring: JournalKeyring, row: JournalEntryRow): Partial<Columns> {
  const encrypted = JOURNAL_FIELDS.filter((field) => field.encrypted)
  const columns = encrypted.map((field) => [field.column, stored(keyring, row.id, row.userId, field, opened(keyring, row, field))])
  return { keyId: keyring.current.id, ...Object.fromEntries(columns) } as Partial<Columns>
}

/** The entry as the API shows it. */
export function toEntry(keyring: JournalKeyring, row: JournalEntryRow): JournalEntry {
  return entryOf(row, toContent(keyring, row))
}

function entryOf(row: JournalEntryRow, { occurredAt, conflict, ...texts }: Content): JournalEntry {
  return {
    id: row.id,
    occurredAt: occurredAt.toISOString(),
    ...texts,
    conflict: conflict && { ...conflict, responseGroup: conflict.response === null ? null : groupOf(conflict.response) },
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}

/** Why an entry's text cannot be opened: its key is not configured, or the ciphertext does not authenticate. */
export type UnreadableCode = 'journal_key_unknown' | 'journal_text_not_authentic'

/** What a row says, with every field that cannot be opened left empty (null; the body ''), named in `unreadable`. */
export interface ReadContent {
  content: Content
  /** The encrypted fields that could not be opened; empty when the entry is whole. */
  unreadable: string[]
  code: UnreadableCode | null
  error: JournalDecryptionError | null
}

export function readContent(keyring: JournalKeyring, row: JournalEntryRow): ReadContent {
  const unreadable: string[] = []
  let error: JournalDecryptionError | null = null
  const openOrNull = (field: Field): unknown => {
    try {
      return opened(keyring, row, field)
    } catch (failure) {
      if (!(failure instanceof JournalDecryptionError)) throw failure
      unreadable.push(field.name)
      error ??= failure
      return null
    }
  }
  const conflict = byField<Conflict>(CONFLICT_FIELDS, openOrNull)
  const response = isConflictResponse(conflict.response) ? conflict.response : null
  const entry = byField<Omit<Content, 'conflict'>>(ENTRY_FIELDS, openOrNull)
  const content: Content = { ...entry, body: entry.body ?? '', conflict: normalizeConflict({ ...conflict, response }) }
  const code: UnreadableCode | null = unreadable.length === 0 ? null : keyring.byId.has(row.keyId) ? 'journal_text_not_authentic' : 'journal_key_unknown'
  return { content, unreadable, code, error }
}

/**
 * The entry for lists, the export and reads: whole when it can be opened; otherwise what can be shown,
 * marked `unreadable: true` with its code, so one bad row (altered, or sealed with a retired key) does
 * not take the user's whole journal with it.
 */
export function toShownEntry(keyring: JournalKeyring, row: JournalEntryRow): { entry: JournalEntry; read: ReadContent } {
  const read = readContent(keyring, row)
  const entry = entryOf(row, read.content)
  return { entry: read.code === null ? entry : { ...entry, unreadable: true, unreadableCode: read.code }, read }
}

/** Given parts of a conflict replace those of `base`, null clears one, absent parts stay. */
const mergeConflict = (base: Conflict, given: NonNullable<CreateJournalEntry['conflict']>): Conflict | null =>
  normalizeConflict(byField<Conflict, ConflictField>(CONFLICT_FIELDS, ({ name }) => (given[name] === undefined ? base[name] : given[name])))

/** A new entry's content: absent optional fields are null, `occurredAt` defaults to now. */
export function fromInput(input: CreateJournalEntry, now: Date): Content {
  const entry = byField<Omit<Content, 'conflict'>, EntryField>(ENTRY_FIELDS, ({ name }) => input[name] ?? null)
  return { ...entry, occurredAt: input.occurredAt ?? now, conflict: input.conflict ? mergeConflict(EMPTY_CONFLICT, input.conflict) : null }
}

/** Applies a PATCH: given fields replace, null clears, absent stays; the conflict part merges part by part. */
export function applyChanges(current: Content, changes: UpdateJournalEntry): Content {
  const entry = byField<Omit<Content, 'conflict'>, EntryField>(ENTRY_FIELDS, ({ name }) => (changes[name] === undefined ? current[name] : changes[name]))
  const { conflict } = changes
  return { ...entry, conflict: conflict === undefined ? current.conflict : conflict === null ? null : mergeConflict(current.conflict ?? EMPTY_CONFLICT, conflict) }
}
