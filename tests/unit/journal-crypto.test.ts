import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { buildKeyring, JournalDecryptionError, open, seal, type SealBinding } from '../../src/modules/journal/journal-crypto.js'
import { generateJournalKey, JournalKeyConfigError, loadJournalKeys, parseJournalKeys } from '../../src/modules/journal/journal-keys.js'

const key = (id: string) => ({ id, key: randomBytes(32) })
const binding: SealBinding = { field: 'body', rowId: '0b6c9a57-87a3-4c1f-9d0e-1f6f2a9e4b10', userId: '5f0c2a8e-1b7d-4c1e-9a3f-2d6b8e4f7a10' }

describe('journal encryption', () => {
  it('round-trips text, multi-byte characters included', () => {
    const ring = buildKeyring([key('k1')])
    for (const text of ['', 'plain', 'Ünïcödé 🙂 漢字', 'x'.repeat(20_000)]) expect(open(ring, 'k1', binding, seal(ring, binding, text))).toBe(text)
  })

  it('binds the value to its field, row, user and key id', () => {
    const ring = buildKeyring([key('k1')])
    const sealed = seal(ring, binding, 'bound')
    for (const other of [
      { ...binding, field: 'title' as const },
      { ...binding, rowId: '0b6c9a57-87a3-4c1f-9d0e-1f6f2a9e4b11' },
      { ...binding, userId: '5f0c2a8e-1b7d-4c1e-9a3f-2d6b8e4f7a11' },
    ]) {
      expect(() => open(ring, 'k1', other, sealed)).toThrow(JournalDecryptionError)
    }
    // The same key material under another id is another key.
    const renamed = buildKeyring([{ id: 'k2', key: ring.current.key }])
    expect(() => open(renamed, 'k2', binding, sealed)).toThrow(/failed authentication/)
  })

  it('refuses every single flipped bit', () => {
    const ring = buildKeyring([key('k1')])
    const sealed = seal(ring, binding, 'tamper with me')
    for (let byte = 0; byte < sealed.length; byte++) {
      const copy = Uint8Array.from(sealed)
      copy[byte] = (copy[byte] ?? 0) ^ 0x01
      expect(() => open(ring, 'k1', binding, copy), `byte ${byte}`).toThrow(JournalDecryptionError)
    }
  })

  it('seals with the first key and opens with any, and names a key it does not have', () => {
    const [newer, older] = [key('new'), key('old')]
    const sealedOld = seal(buildKeyring([older]), binding, 'old text')
    const ring = buildKeyring([newer, older])
    expect(open(ring, 'old', binding, sealedOld)).toBe('old text')
    expect(ring.current.id).toBe('new')
    expect(() => open(buildKeyring([newer]), 'old', binding, sealedOld)).toThrow(/journal key "old", which is not configured/)
  })

  it('uses a fresh nonce each time', () => {
    const ring = buildKeyring([key('k1')])
    const nonces = new Set(Array.from({ length: 200 }, () => Buffer.from(seal(ring, binding, 'same')).subarray(1, 13).toString('hex')))
    expect(nonces.size).toBe(200)
  })
})

describe('journal keys', () => {
  it('reads `id:base64` pairs, newest first, in base64 or base64url, separated by commas or whitespace', () => {
    const a = randomBytes(32)
    const b = randomBytes(32)
    const keys = parseJournalKeys(` new:${a.toString('base64url')},\n old:${b.toString('base64')} `)
    expect(keys.map((k) => k.id)).toEqual(['new', 'old'])
    expect(keys[0]?.key.equals(a)).toBe(true)
    expect(keys[1]?.key.equals(b)).toBe(true)
    expect(parseJournalKeys(generateJournalKey())[0]?.id).toMatch(/^jk-\d{8}-[0-9a-f]{6}$/)
  })

  it.each([
    ['', /no keys/],
    ['k1', /id:base64key/],
    [':abc', /id:base64key/],
    ['bad id!:' + randomBytes(32).toString('base64'), /id:base64key/],
    ['k1:not*base64', /not base64/],
    [`k1:${randomBytes(16).toString('base64')}`, /16 bytes/],
    [`k1:${randomBytes(32).toString('base64')},k1:${randomBytes(32).toString('base64')}`, /duplicate key id "k1"/],
  ])('refuses %j', (text, message) => {
    expect(() => parseJournalKeys(text)).toThrow(JournalKeyConfigError)
    expect(() => parseJournalKeys(text)).toThrow(message)
  })

  it('generates one key into DATA_DIR for the embedded database, readable only by its owner, and reuses it', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tp-journal-keys-'))
    const first = loadJournalKeys(loadConfig({ DATA_DIR: dataDir }))
    const second = loadJournalKeys(loadConfig({ DATA_DIR: dataDir }))
    expect(second.current.id).toBe(first.current.id)
    expect(second.current.key.equals(first.current.key)).toBe(true)
    const file = path.join(dataDir, 'keys', 'journal-encryption-keys')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file, 'utf8')).toContain(`${first.current.id}:`)
    // Configured keys win over the generated one.
    const configured = generateJournalKey()
    expect(loadJournalKeys(loadConfig({ DATA_DIR: dataDir, JOURNAL_ENCRYPTION_KEYS: configured })).current.id).toBe(configured.split(':')[0])
  })

  it('refuses to start on Postgres without keys, saying how to make one', () => {
    expect(() => loadJournalKeys(loadConfig({ DATABASE_URL: 'postgresql://localhost/x' }))).toThrow(/JOURNAL_ENCRYPTION_KEYS is required with DATABASE_URL.*npm run keys:generate/)
  })
})
