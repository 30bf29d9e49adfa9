import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Config } from '../config.js'

/**
 * The embedded demo's app credentials, kept beside its generated keys so that every start (and
 * `npm run demo:credentials`) can show them again: the database holds only the secret's hash. Only the
 * embedded database with a data folder has this file; Postgres never gets demo credentials by itself.
 */
export interface DemoCredentials {
  clientId: string
  clientSecret: string
}

type DemoConfig = Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>

/** `DATA_DIR/keys/demo-client.env`, or undefined where there is no such file (Postgres, DATA_DIR=memory). */
export function demoCredentialsFile(config: DemoConfig): string | undefined {
  if (config.DATABASE_URL || config.DATA_DIR === 'memory') return undefined
  return path.resolve(config.DATA_DIR, 'keys', 'demo-client.env')
}

/** The file's text: `KEY=value` lines a shell can source. */
export const demoCredentialsText = ({ clientId, clientSecret }: DemoCredentials): string => `DEMO_CLIENT_ID=${clientId}\nDEMO_CLIENT_SECRET=${clientSecret}\n`

export function saveDemoCredentials(config: DemoConfig, credentials: DemoCredentials): void {
  const file = demoCredentialsFile(config)
  if (!file) return
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  writeFileSync(file, demoCredentialsText(credentials), { mode: 0o600 })
  chmodSync(file, 0o600)
}

export function readDemoCredentials(config: DemoConfig): DemoCredentials | undefined {
  const file = demoCredentialsFile(config)
  if (!file || !existsSync(file)) return undefined
  const values = Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.split('=', 2) as [string, string?])
      .filter((pair): pair is [string, string] => pair[1] !== undefined),
  )
  const clientId = values.DEMO_CLIENT_ID
  const clientSecret = values.DEMO_CLIENT_SECRET
  return clientId && clientSecret ? { clientId, clientSecret } : undefined
}

/**
 * What a start in demo mode prints (plain text on stderr, beside the JSON log on stdout): the
 * credentials and a token request against the address the server actually listens on.
 */
export function demoBanner(address: string, { clientId, clientSecret }: DemoCredentials): string {
  return [
    '',
    '--- Therapath demo (embedded database; DEMO ONLY: do not expose these credentials) ---',
    `API:   ${address}    docs: ${address}/docs`,
    `DEMO_CLIENT_ID=${clientId}`,
    `DEMO_CLIENT_SECRET=${clientSecret}`,
    'An app token (directory:read directory:write):',
    `  curl -s -X POST ${address}/v1/oauth/token -d grant_type=client_credentials -d client_id=${clientId} -d client_secret=${clientSecret}`,
    'Show these again: npm run demo:credentials',
    '---',
    '',
  ].join('\n')
}
