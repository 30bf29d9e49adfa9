import { Writable } from 'node:stream'
import { type App, buildApp } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import { FEATURE_LOG_REDACTIONS } from '../../src/features.js'
import { createLogger } from '../../src/logger.js'
import { sharedDatabase, testConfig } from './database.js'

/** The real app on the shared test database. Register extra routes before the first request if a test needs them. */
export async function buildTestApp(overrides: Record<string, string> = {}): Promise<App> {
  return buildApp(testConfig(overrides), { db: await sharedDatabase() })
}

/** A logger whose JSON lines a test can read back, e.g. to prove something was never logged; it redacts what the app's does. */
export function capturingLogger(level = 'info'): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'))
      done()
    },
  })
  const logger = createLogger({ LOG_LEVEL: level as Config['LOG_LEVEL'] }, { destination: stream, redactKeys: FEATURE_LOG_REDACTIONS })
  const text = () => chunks.join('')
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  }
}
