/**
 * `npm run keys:generate`: prints a new Ed25519 signing key as an environment line, for running
 * on Postgres (every instance must share it). To rotate, put the new key first and keep the old
 * one until the access tokens it signed have expired: AUTH_SIGNING_KEYS='[new, old]'.
 */
import { generateSigningJwk } from '../modules/auth/keys.js'

const jwk = await generateSigningJwk()
console.log(`AUTH_SIGNING_KEYS='${JSON.stringify(jwk)}'`)
