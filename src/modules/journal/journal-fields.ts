import type { JournalEntry as JournalEntryRow } from '../../generated/prisma/client.js'

/**
 * Every field of a journal entry, once: its name in the API, its column, and whether it is encrypted.
 * The codec (journal-codec.ts) maps input to rows and rows to entries from this table; encryption
 * seals exactly the `encrypted` fields (JOURNAL_TEXT_FIELDS); the logger redacts every encrypted or
 * `private` field (JOURNAL_LOG_REDACTIONS). A new field is a line here, plus its API schema, the
 * Prisma model and a migration; a test checks that each encrypted field is stored only as ciphertext
 * and never logged. In the order the API shows them.
 */
interface FieldSpec {
  readonly name: string
  readonly encrypted: boolean
  readonly column: keyof JournalEntryRow
  /** Stored in clear (lists filter on it), yet the user's own words: never logged. */
  readonly private?: true
}

export const ENTRY_FIELDS = [
  { name: 'occurredAt', encrypted: false, column: 'occurredAt' },
  { name: 'title', encrypted: true, column: 'titleEnc' },
  { name: 'body', encrypted: true, column: 'bodyEnc' },
  { name: 'mood', encrypted: false, column: 'mood' },
  { name: 'emotions', encrypted: false, column: 'emotions' },
  { name: 'tags', encrypted: false, column: 'tags', private: true },
] as const satisfies readonly FieldSpec[]

/** The parts of an entry's optional `conflict`. */
export const CONFLICT_FIELDS = [
  { name: 'trigger', encrypted: true, column: 'triggerEnc' },
  { name: 'response', encrypted: false, column: 'conflictResponse' },
  { name: 'responseNote', encrypted: true, column: 'responseNoteEnc' },
  { name: 'outcome', encrypted: true, column: 'outcomeEnc' },
  { name: 'intensity', encrypted: false, column: 'conflictIntensity' },
] as const satisfies readonly FieldSpec[]

export type EntryFieldName = (typeof ENTRY_FIELDS)[number]['name']
export type ConflictFieldName = (typeof CONFLICT_FIELDS)[number]['name']

const ALL_FIELDS: readonly FieldSpec[] = [...ENTRY_FIELDS, ...CONFLICT_FIELDS]
type EncryptedField = Extract<(typeof ENTRY_FIELDS)[number] | (typeof CONFLICT_FIELDS)[number], { encrypted: true }>

export type JournalTextField = EncryptedField['name']

/** The fields sealed with AES-256-GCM, by name: what a ciphertext's authenticated data may name. */
export const JOURNAL_TEXT_FIELDS = ALL_FIELDS.filter((field) => field.encrypted).map((field) => field.name as JournalTextField)

/** Object keys the logger redacts wherever they appear: every encrypted or private field, and the conflict part. */
export const JOURNAL_LOG_REDACTIONS = ['conflict', ...ALL_FIELDS.filter((field) => field.encrypted || field.private).map((field) => field.name)]
