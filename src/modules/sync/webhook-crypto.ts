import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'

/** The data keys (JOURNAL_ENCRYPTION_KEYS, the journal's keyring has this shape): the current one seals, all open. */
export interface DataKeyring {
  current: { id: string; key: Buffer }
  byId: ReadonlyMap<string, { id: string; key: Buffer }>
}

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/, "Signature scheme"): the secret is
 * `whsec_` + base64 of random bytes; a message is signed with HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${body}` keyed with the decoded secret, and sent as
 * `webhook-signature: v1,<base64>` (several space-separated while a rotated secret overlaps).
 *
 * Secrets must be readable to sign with, so they cannot be hashed like app secrets: they are sealed
 * with AES-256-GCM under the data keys that seal journal text (JOURNAL_ENCRYPTION_KEYS), bound to their
 * endpoint, with the key id stored beside them so the keys can rotate.
 */

export const SECRET_PREFIX = 'whsec_'
/** 32 random bytes: the spec asks for 24 to 64. */
const SECRET_BYTES = 32

export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`
}

/** The HMAC key of a secret: the base64 after `whsec_` (the prefix is optional, as in the spec's libraries). */
function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64')
}

/**
 * One `v1,<base64>` signature.
 * @param timestamp - seconds since the epoch, as sent in `webhook-timestamp`
 */
export function sign(secret: string, messageId: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${messageId}.${timestamp}.${body}`).digest('base64')
  return `v1,${mac}`
}

/** The headers of one attempt: every secret in force signs (the current first). */
export function signedHeaders(secrets: readonly string[], messageId: string, timestamp: number, body: string): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => sign(secret, messageId, timestamp, body)).join(' '),
  }
}

const FORMAT_V1 = 0x01
const NONCE_BYTES = 12
const TAG_BYTES = 16

const associatedData = (endpointId: string, keyId: string) => Buffer.from(['therapath.webhook-secret.v1', endpointId, keyId].join('\u0000'), 'utf8')

/** Seals a secret for one endpoint with the keyring's current key. */
export function sealSecret(keyring: DataKeyring, endpointId: string, secret: string): { sealed: Uint8Array<ArrayBuffer>; keyId: string } {
  const { id, key } = keyring.current
  const nonce = randomBytes(NONCE_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES })
  cipher.setAAD(associatedData(endpointId, id))
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()])
  const sealed = new Uint8Array(1 + NONCE_BYTES + ciphertext.length + TAG_BYTES)
  sealed[0] = FORMAT_V1
  sealed.set(nonce, 1)
  sealed.set(ciphertext, 1 + NONCE_BYTES)
  sealed.set(cipher.getAuthTag(), 1 + NONCE_BYTES + ciphertext.length)
  return { sealed, keyId: id }
}

/** @throws Error when the key is not configured or the value does not authenticate */
export function openSecret(keyring: DataKeyring, endpointId: string, keyId: string, sealed: Uint8Array): string {
  const entry = keyring.byId.get(keyId)
  if (!entry) throw new Error(`webhook ${endpointId}: its secret is sealed with key "${keyId}", which JOURNAL_ENCRYPTION_KEYS no longer has`)
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength)
  if (bytes.length < 1 + NONCE_BYTES + TAG_BYTES || bytes[0] !== FORMAT_V1) throw new Error(`webhook ${endpointId}: the secret is not in a known format`)
  const decipher = createDecipheriv('aes-256-gcm', entry.key, bytes.subarray(1, 1 + NONCE_BYTES), { authTagLength: TAG_BYTES })
  decipher.setAAD(associatedData(endpointId, keyId))
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
  try {
    return Buffer.concat([decipher.update(bytes.subarray(1 + NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8')
  } catch {
    throw new Error(`webhook ${endpointId}: the secret failed authentication with key "${keyId}"`)
  }
}
