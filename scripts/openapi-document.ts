import { generateKeyPairSync } from 'node:crypto'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openPostgres } from '../src/db/database.js'
import { generateJournalKey } from '../src/modules/journal/journal-keys.js'

/** The OpenAPI document as committed: stable key order from the app, 2-space JSON, final newline. */
export async function generateOpenApiDocument(): Promise<string> {
  // Never connected: building the app runs no query. The URL only selects a backend.
  const url = 'postgresql://127.0.0.1:1/openapi-generation-needs-no-database'
  // Throwaway keys: the document lists no key material.
  const key = JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }))
  const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', AUTH_SIGNING_KEYS: key, JOURNAL_ENCRYPTION_KEYS: generateJournalKey() })
  const db = openPostgres(url)
  const app = await buildApp(config, { db })
  try {
    await app.ready()
    return `${JSON.stringify(app.swagger(), null, 2)}\n`
  } finally {
    await app.close()
    await db.close()
  }
}
