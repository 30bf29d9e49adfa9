import type { Config } from '../config.js'
import { DataDirLockedError } from '../db/data-dir-lock.js'
import { type Database, openDatabase } from '../db/database.js'

/**
 * The database for an operator command: no statement timeout (migrations and re-encryption run long
 * statements), and on the embedded database a one-line refusal, naming the process, while another
 * process (the server) has DATA_DIR open.
 */
export async function openDatabaseForCommand(config: Config): Promise<Database> {
  try {
    return await openDatabase(config, { statementTimeoutMs: 0 })
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error
    console.error(`cannot run: ${error.message}`)
    process.exit(1)
  }
}
