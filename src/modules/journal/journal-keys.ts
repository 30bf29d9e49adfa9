import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Config } from '../../config.js'
import { buildKeyring, type JournalKey, type JournalKeyring } from './journal-crypto.js'

/**
 * The keys that encrypt journal text, from JOURNAL_ENCRYPTION_KEYS: `id:base64key` pairs separated by
 * commas or whitespace, newest first. The first encrypts; all decrypt, so a rotation puts the new key
 * in front, runs `npm run journal:rotate-key`, and drops the old key once nothing uses it. On the
 * embedded database a key is generated once into DATA_DIR; on Postgres every instance must share the
 * configured keys, so starting without them is refused.
 */

export class JournalKeyConfigError extends Error {
  override name = 'JournalKeyConfigError'
}

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
 * DATA_DIR/keys (in memory for DATA_DIR=memory).
 * @throws JournalKeyConfigError on Postgres without keys, or for malformed keys
 */
export function loadJournalKeys(config: Config): JournalKeyring {
  if (config.JOURNAL_ENCRYPTION_KEYS) return buildKeyring(parseJournalKeys(config.JOURNAL_ENCRYPTION_KEYS))
  if (config.DATABASE_URL) {
    throw new JournalKeyConfigError(
      'JOURNAL_ENCRYPTION_KEYS is required with DATABASE_URL (every instance must encrypt and decrypt journal entries with the same keys): create one with `npm run keys:generate`',
    )
  }
  if (config.DATA_DIR === 'memory') return buildKeyring(parseJournalKeys(generateJournalKey()))
  const dir = path.resolve(config.DATA_DIR, 'keys')
  const file = path.join(dir, KEY_FILE)
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    try {
      writeFileSync(file, `${generateJournalKey()}\n`, { mode: 0o600, flag: 'wx' })
      chmodSync(file, 0o600)
    } catch (error) {
      // Another process wrote it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  return buildKeyring(parseJournalKeys(readFileSync(file, 'utf8')))
}
