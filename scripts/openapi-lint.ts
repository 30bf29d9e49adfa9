/**
 * `npm run openapi:lint`: Redocly's `recommended` ruleset on openapi/openapi.json, failing on any error
 * or warning (Redocly's own exit status fails on errors only). Prints the problems as Redocly shows them.
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..')
const redocly = path.join(ROOT, 'node_modules', '.bin', 'redocly')
const args = ['lint', 'openapi/openapi.json', '--extends=recommended']
// Offline and quiet: no telemetry, no update check.
const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }

const json = spawnSync(redocly, [...args, '--format=json'], { cwd: ROOT, env, encoding: 'utf8' })
let totals: { errors: number; warnings: number; ignored: number }
try {
  totals = (JSON.parse(json.stdout) as { totals: typeof totals }).totals
} catch {
  console.error(`redocly lint did not answer JSON (exit ${json.status}):\n${json.stdout}\n${json.stderr}`)
  process.exit(1)
}
if (totals.errors > 0 || totals.warnings > 0) {
  spawnSync(redocly, [...args, '--format=codeframe'], { cwd: ROOT, env, stdio: 'inherit' })
}
console.log(`openapi:lint (Redocly recommended): ${totals.errors} errors, ${totals.warnings} warnings, ${totals.ignored} ignored`)
process.exit(totals.errors > 0 || totals.warnings > 0 ? 1 : 0)
