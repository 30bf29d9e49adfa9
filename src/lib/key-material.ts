import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { type Config, ConfigError, type SharedKey, sharedKeyRequired } from '../config.js'

/** Key material that is malformed, or missing where it must be configured. */
export class KeyConfigError extends ConfigError {
  override name = 'KeyConfigError'
}

/**
 * The text of the keys configured in `variable`; without it, on the embedded database, keys
 * generated once into `DATA_DIR/keys/<fileName>` (owner-only; keep the file with the data), or for
 * this process only with DATA_DIR=memory. On Postgres, every instance must share configured keys,
 * so their absence is refused (loadConfig refuses it first; this holds for any other caller).
 */
export function loadKeyMaterial(config: Config, key: { variable: SharedKey; fileName: string; generate: () => string }): string {
  const configured = config[key.variable]
  if (configured) return configured
  if (config.DATABASE_URL) throw new KeyConfigError(sharedKeyRequired(key.variable))
  if (config.DATA_DIR === 'memory') return key.generate()
  const dir = path.resolve(config.DATA_DIR, 'keys')
  const file = path.join(dir, key.fileName)
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    try {
      writeFileSync(file, key.generate(), { mode: 0o600, flag: 'wx' })
      chmodSync(file, 0o600)
    } catch (error) {
      // Another process wrote it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  return readFileSync(file, 'utf8')
}
