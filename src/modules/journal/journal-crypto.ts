import { openValue, SealedValueError, sealValue } from '../../lib/sealed-value.js'
import type { JournalTextField } from './journal-fields.js'

/**
 * Encryption at rest for the text people write in their journal: AES-256-GCM from node:crypto,
 * a fresh random 96-bit nonce for every value, and authenticated data that names the value's
 * field, row, user and key. GCM then refuses a value that was altered, or moved to another field,
 * row or user, or read with another key: it never returns garbled text. Framework-free, so the
 * service, the export and the rotation CLI share it.
 *
 * A sealed value is `0x01 ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`; the key id lives in
 * the row's `key_id` column (one key seals every field of a row), so rotation can find old rows.
 */

export interface JournalKey {
  /** Stored with every row it seals; 1–64 of `A–Z a–z 0–9 . _ -`. */
  id: string
  /** 32 bytes. */
  key: Buffer
}

export interface JournalKeyring {
  /** The newest key: every new or edited row is sealed with it. */
  current: JournalKey
  /** Every configured key by id, the current one included; older ones only decrypt. */
  byId: ReadonlyMap<string, JournalKey>
}

/** Which value a ciphertext belongs to; all of it is authenticated, none of it is stored in the value. */
export interface SealBinding {
  field: JournalTextField
  rowId: string
  userId: string
}



/**
 * A ciphertext that cannot be opened: tampered with, moved, sealed with another key, or sealed with
 * a key this process does not have. Deliberately not a domain error: the request fails with a bare
 * 500 and the error handler logs this message (ids and the reason, never content) at error level.
 */
export class JournalDecryptionError extends Error {
  override name = 'JournalDecryptionError'
}

function associatedData(binding: SealBinding, keyId: string): Buffer {
  return Buffer.from(['therapath.journal.v1', binding.field, binding.rowId, binding.userId, keyId].join('\u0000'), 'utf8')
}

export function buildKeyring(keys: readonly JournalKey[]): JournalKeyring {
  const [current] = keys
  if (!current) throw new Error('a journal keyring needs at least one key')
  return { current, byId: new Map(keys.map((key) => [key.id, key])) }
}

/** Encrypts one text value with the keyring's current key. */
export function seal(keyring: JournalKeyring, binding: SealBinding, plaintext: string): Uint8Array<ArrayBuffer> {
  const { id, key } = keyring.current
  return sealValue(key, associatedData(binding, id), plaintext)
}

/**
 * Decrypts one value sealed with key `keyId` for exactly this binding.
 * @throws JournalDecryptionError when the key is not configured or the value does not authenticate
 */
export function open(keyring: JournalKeyring, keyId: string, binding: SealBinding, sealed: Uint8Array): string {
  const where = `journal entry ${binding.rowId}, field ${binding.field}`
  const entry = keyring.byId.get(keyId)
  if (!entry) {
    throw new JournalDecryptionError(
      `${where} is sealed with journal key "${keyId}", which is not configured (JOURNAL_ENCRYPTION_KEYS has ${[...keyring.byId.keys()].join(', ')}); add it back to decrypt`,
    )
  }
  try {
    return openValue(entry.key, associatedData(binding, keyId), sealed)
  } catch (error) {
    if (error instanceof SealedValueError && error.reason === 'format') throw new JournalDecryptionError(`${where}: not a sealed value in a known format`)
    throw new JournalDecryptionError(
      `${where} failed authentication with journal key "${keyId}": the ciphertext was altered or moved, or the key's material is not the one that sealed it`,
    )
  }
}
