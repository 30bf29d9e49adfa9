/**
 * `npm run keys:generate`: prints a new Ed25519 token-signing key and a new journal encryption key
 * as environment lines, for running on Postgres (every instance must share them).
 * To rotate the signing key, put the new key first and keep the old one until the access tokens it
 * signed have expired: AUTH_SIGNING_KEYS='[new, old]'. To rotate the journal key, put the new one
 * first (JOURNAL_ENCRYPTION_KEYS='new,old'), run `npm run journal:rotate-key`, then drop the old one.
 */
import { generateSigningJwk } from '../modules/auth/keys.js'
import { generateJournalKey } from '../modules/journal/journal-keys.js'

const jwk = await generateSigningJwk()
console.log(`AUTH_SIGNING_KEYS='${JSON.stringify(jwk)}'`)
console.log(`JOURNAL_ENCRYPTION_KEYS='${generateJournalKey()}'`)
