import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/**
 * One worker, shared module state: every test file uses the same database (one embedded PGlite
 * takes seconds to start, so we start it once), and each test makes its own uniquely keyed data.
 * With DATABASE_URL set, global-setup creates a fresh Postgres database for the run and drops it after.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    isolate: false,
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
})
