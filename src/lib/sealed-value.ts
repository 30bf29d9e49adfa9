import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/**
 * One value encrypted at rest with AES-256-GCM (node:crypto): a fresh random 96-bit nonce per value and
 * caller-chosen authenticated data, so a value altered, moved to another place or read with another key
 * is refused, never returned garbled. Shared by journal text and webhook secrets; each names its own
 * authenticated data and keeps the key id beside the value.
 *
 * A sealed value is `0x01 ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`.
 */

const ALGORITHM = 'aes-256-gcm'
const FORMAT_V1 = 0x01
const NONCE_BYTES = 12
const TAG_BYTES = 16

/** Why a sealed value could not be opened: not in the format above, or the tag did not authenticate. */
export class SealedValueError extends Error {
  constructor(readonly reason: 'format' | 'authentication') {
    super(reason === 'format' ? 'not a sealed value in a known format' : 'the sealed value failed authentication')
  }
}

export function sealValue(key: Buffer, associatedData: Buffer, plaintext: string): Uint8Array<ArrayBuffer> {
  const nonce = randomBytes(NONCE_BYTES)
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES })
  cipher.setAAD(associatedData)
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  const sealed = new Uint8Array(1 + NONCE_BYTES + ciphertext.length + TAG_BYTES)
  sealed[0] = FORMAT_V1
  sealed.set(nonce, 1)
  sealed.set(ciphertext, 1 + NONCE_BYTES)
  sealed.set(cipher.getAuthTag(), 1 + NONCE_BYTES + ciphertext.length)
  return sealed
}

/** @throws SealedValueError when the value is not in the format or does not authenticate with this key and data */
export function openValue(key: Buffer, associatedData: Buffer, sealed: Uint8Array): string {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength)
  if (bytes.length < 1 + NONCE_BYTES + TAG_BYTES || bytes[0] !== FORMAT_V1) throw new SealedValueError('format')
  const decipher = createDecipheriv(ALGORITHM, key, bytes.subarray(1, 1 + NONCE_BYTES), { authTagLength: TAG_BYTES })
  decipher.setAAD(associatedData)
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
  const head = decipher.update(bytes.subarray(1 + NONCE_BYTES, bytes.length - TAG_BYTES))
  try {
    // Only after final() has checked the tag is any of the output trusted.
    return Buffer.concat([head, decipher.final()]).toString('utf8')
  } catch {
    throw new SealedValueError('authentication')
  }
}
