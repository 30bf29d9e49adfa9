/**
 * `npm run keys:generate [-- --out FILE]`: a new Ed25519 token-signing key and a new journal encryption
 * key as `KEY='value'` lines, for running on Postgres (every instance must share them). With `--out`,
 * the lines go to FILE (owner-only, never overwritten: losing a journal key loses the journal) and
 * nothing else is in it, whatever npm prints around the command; the file can be sourced by a shell
 * (`set -a; . ./FILE; set +a`) or used as docker compose's `.env`.
 * To rotate the signing key, put the new key first and keep the old one until the access tokens it
 * signed have expired: AUTH_SIGNING_KEYS='[new, old]'. To rotate the journal key, put the new one
 * first (JOURNAL_ENCRYPTION_KEYS='new,old'), run `npm run journal:rotate-key`, then drop the old one.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { generateSigningJwk } from '../modules/auth/keys.js'
import { generateJournalKey } from '../modules/journal/journal-keys.js'

const { values } = parseArgs({ options: { out: { type: 'string' } } })
const jwk = await generateSigningJwk()
const lines = `AUTH_SIGNING_KEYS='${JSON.stringify(jwk)}'\nJOURNAL_ENCRYPTION_KEYS='${generateJournalKey()}'\n`

if (values.out === undefined) {
  process.stdout.write(lines)
} else {
  try {
    writeFileSync(values.out, lines, { mode: 0o600, flag: 'wx' })
    console.error(`wrote ${values.out} (AUTH_SIGNING_KEYS, JOURNAL_ENCRYPTION_KEYS); keep it secret and keep it: without its journal key the journal cannot be read`)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    console.error(code === 'EEXIST' ? `${values.out} exists; not overwritten (its keys may be in use). Choose another file or remove it first.` : `cannot write ${values.out}: ${String(error)}`)
    process.exit(1)
  }
}
