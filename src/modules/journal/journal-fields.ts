import type { JournalEntry as JournalEntryRow } from '../../generated/prisma/client.js'

/**
 * Every field of a journal entry, once: its name in the API, its column, and whether it is encrypted.
 * The codec (journal-codec.ts) maps input to rows and rows to entries from this table; encryption
 * seals exactly the `encrypted` fields (JOURNAL_TEXT_FIELDS); the logger redacts every encrypted or
 * `private` field (JOURNAL_LOG_REDACTIONS). A new field is a line here, plus its API schema, the
 * Prisma model and a migration; a test checks that each encrypted field is stored only as ciphertext
 * and never logged. In the order the API shows them.
 */
/** `private`: stored in clear (lists filter on it), yet the user's own words, so never logged. `conflict`: a part of the entry's optional conflict. */
type FieldSpec = { readonly name: string; readonly encrypted: boolean; readonly column: keyof JournalEntryRow; readonly private?: true; readonly conflict?: true }

export const JOURNAL_FIELDS = [
  { name: 'occurredAt', encrypted: false, column: 'occurredAt' },
  { name: 'title', encrypted: true, column: 'titleEnc' },
  { name: 'body', encrypted: true, column: 'bodyEnc' },
  { name: 'mood', encrypted: false, column: 'mood' },
  { name: 'emotions', encrypted: false, column: 'emotions' },
  { name: 'tags', encrypted: false, column: 'tags', private: true },
  { name: 'trigger', encrypted: true, column: 'triggerEnc', conflict: true },
  { name: 'response', encrypted: false, column: 'conflictResponse', conflict: true },
  { name: 'responseNote', encrypted: true, column: 'responseNoteEnc', conflict: true },
  { name: 'outcome', encrypted: true, column: 'outcomeEnc', conflict: true },
  { name: 'intensity', encrypted: false, column: 'conflictIntensity', conflict: true },
] as const satisfies readonly FieldSpec[]

type Field = (typeof JOURNAL_FIELDS)[number]
export type EntryField = Exclude<Field, { conflict: true }>
export type ConflictField = Extract<Field, { conflict: true }>
export const ENTRY_FIELDS = JOURNAL_FIELDS.filter((field): field is EntryField => !('conflict' in field))
export const CONFLICT_FIELDS = JOURNAL_FIELDS.filter((field): field is ConflictField => 'conflict' in field)

export type EntryFieldName = EntryField['name']
export type ConflictFieldName = ConflictField['name']
export type JournalTextField = Extract<Field, { encrypted: true }>['name']

/** The fields sealed with AES-256-GCM, by name: what a ciphertext's authenticated data may name. */
export const JOURNAL_TEXT_FIELDS = JOURNAL_FIELDS.filter((field): field is Extract<Field, { encrypted: true }> => field.encrypted).map((field) => field.name)

/** Object keys the logger redacts wherever they appear: every encrypted or private field, and the conflict part. */
export const JOURNAL_LOG_REDACTIONS = ['conflict', ...JOURNAL_FIELDS.filter((field) => field.encrypted || 'private' in field).map((field) => field.name)]
