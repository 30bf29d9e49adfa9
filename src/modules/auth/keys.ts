import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { calculateJwkThumbprint, type CryptoKey, importJWK, type JWK } from 'jose'
import type { Config } from '../../config.js'
import { KeyConfigError, loadKeyMaterial } from '../../lib/key-material.js'

/**
 * The asymmetric keys that sign our access tokens. The first private key signs; every key
 * verifies, so a rotation adds the new key in front and drops the old one once the tokens it
 * signed have expired, and nobody is logged out. `GET /.well-known/jwks.json` publishes the
 * public halves, so integrators can verify our tokens themselves.
 */

export type SigningAlgorithm = 'EdDSA' | 'ES256'

export interface VerificationKey {
  kid: string
  alg: SigningAlgorithm
  key: CryptoKey | Uint8Array
}

export interface SigningKeys {
  signing: VerificationKey
  /** Every key by `kid`, the signing one included. */
  verification: Map<string, VerificationKey>
  /** Public JWKs (no private members), as published. */
  publicJwks: JWK[]
}

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y'] as const

function algorithmOf(jwk: JWK): SigningAlgorithm {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA'
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256'
  throw new KeyConfigError(`AUTH_SIGNING_KEYS: unsupported key (kty ${jwk.kty}, crv ${jwk.crv}); use Ed25519 or P-256`)
}

/** Reads JWK JSON (one key, an array, or a JWKS) or PEM blocks (PKCS#8 private, SPKI public). */
export function parseKeyMaterial(text: string): JWK[] {
  const trimmed = text.trim()
  if (trimmed.startsWith('-----BEGIN')) {
    const blocks = trimmed.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g) ?? []
    if (blocks.length === 0) throw new KeyConfigError('AUTH_SIGNING_KEYS: no PEM block found')
    return blocks.map((block) => (block.includes('PRIVATE KEY') ? createPrivateKey(block) : createPublicKey(block)).export({ format: 'jwk' }))
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(trimmed)
  } catch {
    throw new KeyConfigError('AUTH_SIGNING_KEYS: must be a JWK, a JSON array or JWKS of them, or PEM blocks')
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown }).keys ?? [parsed]
  if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'object' && item !== null)) {
    throw new KeyConfigError('AUTH_SIGNING_KEYS: no keys found')
  }
  return list as JWK[]
}

/** Turns key material into the signing key set. The first key with a private part signs. */
export async function buildKeySet(jwks: JWK[]): Promise<SigningKeys> {
  const verification = new Map<string, VerificationKey>()
  const publicJwks: JWK[] = []
  let signing: VerificationKey | undefined
  for (const jwk of jwks) {
    const alg = algorithmOf(jwk)
    const publicJwk: JWK = Object.fromEntries(PUBLIC_MEMBERS.filter((m) => jwk[m] !== undefined).map((m) => [m, jwk[m]]))
    const kid = jwk.kid ?? (await calculateJwkThumbprint(publicJwk))
    if (verification.has(kid)) throw new KeyConfigError(`AUTH_SIGNING_KEYS: duplicate key id ${kid}`)
    const verifyKey: VerificationKey = { kid, alg, key: await importJWK(publicJwk, alg) }
    verification.set(kid, verifyKey)
    publicJwks.push({ ...publicJwk, kid, alg, use: 'sig' })
    if (!signing && jwk.d !== undefined) signing = { kid, alg, key: await importJWK({ ...jwk, kid }, alg) }
  }
  if (!signing) throw new KeyConfigError('AUTH_SIGNING_KEYS: at least one private key is needed to sign tokens')
  return { signing, verification, publicJwks }
}

/** A new Ed25519 private JWK. Without a `kid`, `buildKeySet` names it by its RFC 7638 thumbprint. */
const newSigningJwk = (): JWK => ({ ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), alg: 'EdDSA' })

/** A new Ed25519 private JWK, with its thumbprint as `kid`. */
export async function generateSigningJwk(): Promise<JWK> {
  const jwk = newSigningJwk()
  return { ...jwk, kid: await calculateJwkThumbprint(jwk) }
}

/**
 * Keys from AUTH_SIGNING_KEYS; or, on the embedded database, a key generated once into
 * DATA_DIR/keys/jwt-signing-keys.json (in memory for DATA_DIR=memory).
 * @throws KeyConfigError for malformed keys, or on Postgres without them
 */
export async function loadSigningKeys(config: Config): Promise<SigningKeys> {
  const text = loadKeyMaterial(config, {
    variable: 'AUTH_SIGNING_KEYS',
    fileName: 'jwt-signing-keys.json',
    generate: () => `${JSON.stringify({ keys: [newSigningJwk()] }, null, 2)}\n`,
  })
  return buildKeySet(parseKeyMaterial(text))
}
