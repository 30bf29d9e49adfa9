import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { calculateJwkThumbprint } from 'jose'
import { KeyConfigError } from '../../src/lib/key-material.js'
import { buildKeySet, generateSigningJwk, loadSigningKeys, parseKeyMaterial } from '../../src/modules/auth/keys.js'

describe('signing keys', () => {
  it('reads PEM (Ed25519 and P-256), a JWK, an array and a JWKS', async () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    const fromPem = await buildKeySet(parseKeyMaterial(`${ec}\n${ed}`))
    expect(fromPem.signing.alg).toBe('ES256')
    expect(fromPem.publicJwks.map((k) => k.alg)).toEqual(['ES256', 'EdDSA'])
    for (const jwk of fromPem.publicJwks) expect(jwk).not.toHaveProperty('d')

    const jwk = await generateSigningJwk()
    expect((await buildKeySet(parseKeyMaterial(JSON.stringify(jwk)))).signing.kid).toBe(jwk.kid)
    expect((await buildKeySet(parseKeyMaterial(JSON.stringify([jwk])))).publicJwks).toHaveLength(1)
    expect((await buildKeySet(parseKeyMaterial(JSON.stringify({ keys: [jwk] })))).publicJwks).toHaveLength(1)
  })

  it('signs with the first private key and verifies with all, public-only keys included', async () => {
    const current = await generateSigningJwk()
    const retired = await generateSigningJwk()
    const { d: _d, ...retiredPublic } = retired
    const set = await buildKeySet([retiredPublic, current])
    expect(set.signing.kid).toBe(current.kid)
    expect([...set.verification.keys()]).toEqual([retired.kid, current.kid])
  })

  it.each([
    ['not json', 'no PEM and not JSON'],
    ['{"keys": []}', 'an empty set'],
    [JSON.stringify({ kty: 'RSA', n: 'x', e: 'AQAB' }), 'an RSA key'],
  ])('refuses %s (%s)', async (material) => {
    await expect(async () => buildKeySet(parseKeyMaterial(material))).rejects.toThrow(KeyConfigError)
  })

  it('refuses a set with no private key, or duplicate key ids', async () => {
    const jwk = await generateSigningJwk()
    const { d: _d, ...publicOnly } = jwk
    await expect(buildKeySet([publicOnly])).rejects.toThrow(/private key/)
    await expect(buildKeySet([jwk, jwk])).rejects.toThrow(/duplicate/)
  })

  it('generates one key into DATA_DIR for the embedded database and reuses it', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tp-keys-'))
    const config = loadConfig({ DATA_DIR: dataDir })
    const first = await loadSigningKeys(config)
    const second = await loadSigningKeys(config)
    expect(second.signing.kid).toBe(first.signing.kid)
    const file = path.join(dataDir, 'keys', 'jwt-signing-keys.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8')).keys[0].d).toBeDefined()
  })

  it('names generated keys by their RFC 7638 thumbprint, as jose computes it', async () => {
    const jwk = await generateSigningJwk()
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', d: expect.any(String), x: expect.any(String) })
    expect(jwk.kid).toBe(await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }))
  })

  it('refuses to start on Postgres without configured keys', async () => {
    // The configuration refuses first (see config.test.ts); the loader holds the rule for any other caller.
    expect(() => loadConfig({ DATABASE_URL: 'postgresql://localhost/x' })).toThrow(/AUTH_SIGNING_KEYS is required with DATABASE_URL/)
    const toolConfig = loadConfig({ DATABASE_URL: 'postgresql://localhost/x' }, { sharedKeys: 'optional' })
    await expect(loadSigningKeys(toolConfig)).rejects.toThrow(KeyConfigError)
    await expect(loadSigningKeys(toolConfig)).rejects.toThrow(/AUTH_SIGNING_KEYS is required with DATABASE_URL/)
  })
})
