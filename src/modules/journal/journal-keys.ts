import { randomBytes } from 'node:crypto'
import type { Config } from '../../config.js'
import { KeyConfigError as JournalKeyConfigError, loadKeyMaterial } from '../../lib/key-material.js'
import { buildKeyring, type JournalKey, type JournalKeyring } from './journal-crypto.js'

/**
 * The keys that encrypt journal text, from JOURNAL_ENCRYPTION_KEYS: `id:base64key` pairs separated by
 * commas or whitespace, newest first. The first encrypts; all decrypt, so a rotation puts the new key
 * in front, runs `npm run journal:rotate-key`, and drops the old key once nothing uses it. On the
 * embedded database a key is generated once into DATA_DIR; on Postgres every instance must share the
 * configured keys, so starting without them is refused.
 */

/** The one key-configuration error (src/lib/key-material.ts), under the name journal code and tests know. */
export { JournalKeyConfigError }

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/
const KEY_FILE = 'journal-encryption-keys'

/** Parses `id:base64key[, id:base64key…]`; each key must decode to exactly 32 bytes. */
export function parseJournalKeys(text: string): JournalKey[] {
  const items = text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
  if (items.length === 0) throw new JournalKeyConfigError('JOURNAL_ENCRYPTION_KEYS: no keys found')
  const keys: JournalKey[] = []
  for (const item of items) {
    const colon = item.indexOf(':')
    const id = colon > 0 ? item.slice(0, colon) : ''
    const material = colon > 0 ? item.slice(colon + 1) : ''
    if (!KEY_ID.test(id)) {
      throw new JournalKeyConfigError('JOURNAL_ENCRYPTION_KEYS: each key must be `id:base64key` with an id of 1–64 letters, digits, `.`, `_` or `-`')
    }
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(material)) throw new JournalKeyConfigError(`JOURNAL_ENCRYPTION_KEYS: key "${id}" is not base64`)
    const key = Buffer.from(material.replaceAll('-', '+').replaceAll('_', '/'), 'base64')
    if (key.length !== 32) {
      throw new JournalKeyConfigError(`JOURNAL_ENCRYPTION_KEYS: key "${id}" is ${key.length} bytes; AES-256 needs 32 (make one with \`npm run keys:generate\`)`)
    }
    if (keys.some((existing) => existing.id === id)) throw new JournalKeyConfigError(`JOURNAL_ENCRYPTION_KEYS: duplicate key id "${id}"`)
    keys.push({ id, key })
  }
  return keys
}

/** A new 256-bit key as `id:base64`, its id dated so operators can tell keys apart. */
export function generateJournalKey(now = new Date()): string {
  const id = `jk-${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`
  return `${id}:${randomBytes(32).toString('base64')}`
}

/**
 * The keyring from JOURNAL_ENCRYPTION_KEYS; or, on the embedded database, a key generated once into
 * DATA_DIR/keys/journal-encryption-keys (in memory for DATA_DIR=memory).
 * @throws JournalKeyConfigError on Postgres without keys, or for malformed keys
 */
export function loadJournalKeys(config: Config): JournalKeyring {
  const text = loadKeyMaterial(config, { variable: 'JOURNAL_ENCRYPTION_KEYS', fileName: KEY_FILE, generate: () => `${generateJournalKey()}\n` })
  return buildKeyring(parseJournalKeys(text))
}
