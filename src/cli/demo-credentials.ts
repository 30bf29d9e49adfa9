/**
 * `npm run demo:credentials`: shows the embedded demo's app credentials again, as `KEY=value` lines a
 * shell can `eval` (`eval "$(npm run --silent demo:credentials)"`). They are created on the first start
 * of the embedded demo and kept in DATA_DIR/keys; only the secret's hash is in the database.
 * Reads the file only, so it works while the server runs.
 */
import { loadConfig } from '../config.js'
import { demoCredentialsFile, demoCredentialsText, readDemoCredentials } from '../db/demo-credentials.js'

const config = loadConfig(process.env, { sharedKeys: 'optional' })
const credentials = readDemoCredentials(config)
if (!credentials) {
  const file = demoCredentialsFile(config)
  console.error(
    file
      ? `No demo credentials in ${file}: they are created by the first start of the embedded demo (npm start on an empty DATA_DIR).`
      : 'Demo credentials exist only for the embedded database with a data folder (no DATABASE_URL, DATA_DIR not memory).',
  )
  process.exit(1)
}
process.stdout.write(demoCredentialsText(credentials))
