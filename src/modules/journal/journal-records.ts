import type { JournalEntry as JournalEntryRow } from '../../generated/prisma/client.js'
import { type JournalKeyring, type JournalTextField, open, seal } from './journal-crypto.js'
import { type ConflictResponse, isConflictResponse } from './journal-vocabulary.js'

/**
 * Between an entry's row and what it says: the one place that seals text on the way in and opens it
 * on the way out, shared by the service (requests, export) and key rotation.
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
  body: string
  title: string | null
  mood: number
  emotions: string[]
  tags: string[]
  occurredAt: Date
  conflict: Conflict | null
}

/** The text of an entry, field by field. */
type Texts = Record<JournalTextField, string | null> & { body: string }

export const EMPTY_CONFLICT: Conflict = { trigger: null, response: null, responseNote: null, outcome: null, intensity: null }

/** An empty conflict part is no conflict part. */
export function normalizeConflict(conflict: Conflict | null): Conflict | null {
  if (conflict === null) return null
  return Object.values(conflict).every((value) => value === null) ? null : conflict
}

/** The `*_enc` columns and `key_id` for these texts, sealed for this row and user with the current key. */
export function sealedColumns(keyring: JournalKeyring, rowId: string, userId: string, texts: Texts) {
  const sealText = (field: JournalTextField, value: string | null) => (value === null ? null : seal(keyring, { field, rowId, userId }, value))
  return {
    keyId: keyring.current.id,
    bodyEnc: seal(keyring, { field: 'body', rowId, userId }, texts.body),
    titleEnc: sealText('title', texts.title),
    triggerEnc: sealText('trigger', texts.trigger),
    responseNoteEnc: sealText('responseNote', texts.responseNote),
    outcomeEnc: sealText('outcome', texts.outcome),
  }
}

/**
 * The texts of a row, decrypted. Any value that does not authenticate fails the whole read
 * (JournalDecryptionError): an entry is returned whole and true, or not at all.
 */
export function openTexts(keyring: JournalKeyring, row: JournalEntryRow): Texts {
  const read = (field: JournalTextField, value: Uint8Array | null) =>
    value === null ? null : open(keyring, row.keyId, { field, rowId: row.id, userId: row.userId }, value)
  return {
    body: open(keyring, row.keyId, { field: 'body', rowId: row.id, userId: row.userId }, row.bodyEnc),
    title: read('title', row.titleEnc),
    trigger: read('trigger', row.triggerEnc),
    responseNote: read('responseNote', row.responseNoteEnc),
    outcome: read('outcome', row.outcomeEnc),
  }
}

/** Every column an entry's content is stored in. */
export function toColumns(keyring: JournalKeyring, rowId: string, userId: string, content: Content) {
  const conflict = content.conflict ?? EMPTY_CONFLICT
  return {
    ...sealedColumns(keyring, rowId, userId, {
      body: content.body,
      title: content.title,
      trigger: conflict.trigger,
      responseNote: conflict.responseNote,
      outcome: conflict.outcome,
    }),
    mood: content.mood,
    emotions: content.emotions,
    tags: content.tags,
    occurredAt: content.occurredAt,
    conflictResponse: conflict.response,
    conflictIntensity: conflict.intensity,
  }
}

export function toContent(keyring: JournalKeyring, row: JournalEntryRow): Content {
  const texts = openTexts(keyring, row)
  return {
    body: texts.body,
    title: texts.title,
    mood: row.mood,
    emotions: row.emotions,
    tags: row.tags,
    occurredAt: row.occurredAt,
    conflict: normalizeConflict({
      trigger: texts.trigger,
      response: isConflictResponse(row.conflictResponse) ? row.conflictResponse : null,
      responseNote: texts.responseNote,
      outcome: texts.outcome,
      intensity: row.conflictIntensity,
    }),
  }
}
