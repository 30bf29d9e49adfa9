/**
 * `npm run audit:verify`: checks every user's access-trail hash chain (src/lib/access-trail-verify.ts)
 * and exits 1 if any record was edited, removed or moved. Reads only; needs no keys.
 */
import { loadConfig } from '../config.js'
import { openDatabaseForCommand } from './open-database.js'
import { FEATURE_LOG_REDACTIONS } from '../features.js'
import { verifyAccessChains } from '../lib/access-trail-verify.js'
import { createLogger } from '../logger.js'

const config = loadConfig(process.env, { sharedKeys: 'optional' })
const log = createLogger(config, { redactKeys: FEATURE_LOG_REDACTIONS })
const db = await openDatabaseForCommand(config)
try {
  const report = await verifyAccessChains(db.prisma)
  if (report.problems.length === 0) {
    log.info({ chains: report.chains, records: report.records }, 'every access-trail chain verifies')
  } else {
    log.error({ chains: report.chains, records: report.records, problems: report.problems.slice(0, 100), problemCount: report.problems.length }, 'access trail does not verify')
    process.exitCode = 1
  }
} catch (error) {
  log.fatal(error instanceof Error ? error.message : String(error))
  process.exitCode = 1
} finally {
  await db.close()
}
