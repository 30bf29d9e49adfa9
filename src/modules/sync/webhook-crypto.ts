import { createHmac, randomBytes } from 'node:crypto'
import { openValue, SealedValueError, sealValue } from '../../lib/sealed-value.js'

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

const associatedData = (endpointId: string, keyId: string) => Buffer.from(['therapath.webhook-secret.v1', endpointId, keyId].join('\u0000'), 'utf8')

/** Seals a secret for one endpoint with the keyring's current key. */
export function sealSecret(keyring: DataKeyring, endpointId: string, secret: string): { sealed: Uint8Array<ArrayBuffer>; keyId: string } {
  const { id, key } = keyring.current
  return { sealed: sealValue(key, associatedData(endpointId, id), secret), keyId: id }
}

/** @throws Error when the key is not configured or the value does not authenticate */
export function openSecret(keyring: DataKeyring, endpointId: string, keyId: string, sealed: Uint8Array): string {
  const entry = keyring.byId.get(keyId)
  if (!entry) throw new Error(`webhook ${endpointId}: its secret is sealed with key "${keyId}", which JOURNAL_ENCRYPTION_KEYS no longer has`)
  try {
    return openValue(entry.key, associatedData(endpointId, keyId), sealed)
  } catch (error) {
    if (error instanceof SealedValueError && error.reason === 'format') throw new Error(`webhook ${endpointId}: the secret is not in a known format`)
    throw new Error(`webhook ${endpointId}: the secret failed authentication with key "${keyId}"`)
  }
}
