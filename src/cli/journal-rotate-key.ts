/**
 * `npm run journal:rotate-key [-- --batch-size 500]`: re-encrypts every journal entry still sealed
 * with an older key with the newest one (the first in JOURNAL_ENCRYPTION_KEYS). Run it after every
 * instance has the new key in front; it works in committed batches, so it can be stopped and run
 * again at any time. When it reports nothing remaining, the old keys can be removed.
 */
import { parseArgs } from 'node:util'
import { loadConfig } from '../config.js'
import { MIGRATIONS_DIR } from '../db/database.js'
import { openDatabaseForCommand } from './open-database.js'
import { applyMigrations, readMigrations } from '../db/migrations.js'
import { FEATURE_LOG_REDACTIONS } from '../features.js'
import { createLogger } from '../logger.js'
import { loadJournalKeys } from '../modules/journal/journal-keys.js'
import { rotateJournalKeys } from '../modules/journal/journal-rotation.js'

const { values } = parseArgs({ options: { 'batch-size': { type: 'string' } } })
const batchSize = Number(values['batch-size'] ?? 500)
if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
  console.error('usage: npm run journal:rotate-key [-- --batch-size 1..10000]')
  process.exit(2)
}

// Needs the journal keys only, not the signing key: loadJournalKeys refuses Postgres without them.
const config = loadConfig(process.env, { sharedKeys: 'optional' })
const log = createLogger(config, { redactKeys: FEATURE_LOG_REDACTIONS })
let keyring
try {
  keyring = loadJournalKeys(config)
} catch (error) {
  log.fatal(error instanceof Error ? error.message : String(error))
  process.exit(1)
}

const db = await openDatabaseForCommand(config)
try {
  await db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))
  log.info({ currentKeyId: keyring.current.id, keyIds: [...keyring.byId.keys()], batchSize }, 'rotating journal entries to the newest key')
  const result = await rotateJournalKeys(db.prisma, keyring, {
    batchSize,
    onBatch: (progress) => log.info(progress, 'batch committed'),
  })
  const remaining = Object.values(result.remaining).reduce((sum, count) => sum + count, 0)
  const unused = [...keyring.byId.keys()].filter((id) => id !== result.currentKeyId && !(id in result.remaining))
  log.info(
    { ...result, removableKeyIds: unused },
    remaining === 0
      ? `done: every entry is sealed with ${result.currentKeyId}; keys no longer needed: ${unused.join(', ') || 'none'}`
      : `${remaining} entries are still on older keys (changed or written by an instance with an older key list meanwhile): run again`,
  )
} catch (error) {
  log.fatal(`rotation stopped: ${error instanceof Error ? error.message : String(error)} (batches before this point are committed; fix the cause and run again)`)
  process.exitCode = 1
} finally {
  await db.close()
}
