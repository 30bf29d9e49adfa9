import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MIGRATIONS_DIR } from '../../src/db/database.js'
import { readMigrations } from '../../src/db/migrations.js'
import { sha256Hex } from '../../src/lib/hash.js'
import { onPostgres, scratchDatabase, TEST_JOURNAL_KEY, TEST_SIGNING_KEY } from '../helpers/database.js'

/** The real process entry (src/server.ts), as `npm start` runs it, on an ephemeral port. */
interface RunningServer {
  child: ChildProcess
  url: string
  logs: () => Record<string, unknown>[]
  stderr: () => string
  exit: Promise<number | null>
}

const ROOT = path.resolve(import.meta.dirname, '../..')

function runServer(env: Record<string, string>): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()))
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exit }
}

async function startServer(env: Record<string, string>): Promise<RunningServer> {
  const run = runServer(env)
  const logs = () =>
    run
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    const listening = logs().find((line) => typeof line.address === 'string' && typeof line.startupMs === 'number')
    if (listening) return { child: run.child, url: String(listening.address), logs, stderr: run.stderr, exit: run.exit }
    if (run.child.exitCode !== null) throw new Error(`server exited early: ${run.stderr()} ${run.stdout()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  run.child.kill('SIGKILL')
  throw new Error(`server did not start: ${run.stderr()}`)
}

/**
 * GET /readyz until it is 200 or `attempts` tries (a quarter second apart) have passed: right after start
 * the directory index may still be built (503 `not_ready`, for at most DIRECTORY_INDEX_READY_WAIT_SECONDS).
 */
async function readiness(url: string, attempts = 120): Promise<Response> {
  for (let attempt = 1; ; attempt += 1) {
    const res = await fetch(`${url}/readyz`)
    if (res.status === 200 || attempt >= attempts) return res
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

async function stopServer(server: RunningServer): Promise<number | null> {
  server.child.kill('SIGTERM')
  return server.exit
}

/** Waits (bounded) until the server's stderr holds `text`: it is written after the listening line, on another pipe. */
async function stderrHolds(server: RunningServer, text: string): Promise<string> {
  for (let i = 0; i < 100 && !server.stderr().includes(text); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  return server.stderr()
}

const startupLine = (server: RunningServer) => server.logs().find((line) => typeof line.startupMs === 'number') ?? {}

// Each start is a real process (and PGlite's initdb on the embedded backend): generous under load.
describe('the server process', { timeout: 240_000 }, () => {
  const dirs: string[] = []
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  it('stops at start-up with one line naming a bad variable', async () => {
    const run = runServer({ PORT: 'not-a-port' })
    expect(await run.exit).toBe(1)
    expect(run.stderr().trim()).toMatch(/^Invalid configuration: PORT: [^\n]+$/)
  })

  it('starts on the embedded database with no server, keeps its data across restarts, and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'therapath-data-'))
    dirs.push(dataDir)

    const first = await startServer({ DATA_DIR: dataDir })
    expect(startupLine(first)).toMatchObject({ database: 'embedded', appliedMigrations: readMigrations(MIGRATIONS_DIR).length, demoDataLoaded: true })
    // It says what it is doing before the demo load.
    const messages = first.logs().map((line) => String(line.msg))
    const announced = messages.findIndex((msg) => msg.startsWith('first start: loading the demo data'))
    expect(announced).toBeGreaterThanOrEqual(0)
    expect(announced).toBeLessThan(messages.indexOf('demo data loaded'))
    // The demo app's credentials: labelled in the log, and a plain block on stderr naming the address it listens on.
    const demo = first.logs().find((line) => typeof line.msg === 'string' && line.msg.startsWith('DEMO ONLY'))
    const secret = /client_secret=(tps_\S+)/.exec(String(demo?.msg))?.[1]
    expect(secret).toBeDefined()
    const banner = await stderrHolds(first, 'Show these again')
    expect(banner).toContain(`DEMO_CLIENT_ID=tpc_demo\nDEMO_CLIENT_SECRET=${secret}\n`)
    expect(banner).toContain(`curl -s -X POST ${first.url}/v1/oauth/token`)
    expect(banner).not.toContain('localhost:3000')
    // `npm run demo:credentials` shows them again, as lines a shell can eval.
    const shown = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/demo-credentials.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir }, encoding: 'utf8' })
    expect(shown.status).toBe(0)
    expect(shown.stdout).toBe(`DEMO_CLIENT_ID=tpc_demo\nDEMO_CLIENT_SECRET=${secret}\n`)
    const token = await fetch(`${first.url}/v1/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'tpc_demo', client_secret: secret ?? '' }),
    })
    expect(token.status).toBe(200)
    const ready = await readiness(first.url)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ status: 'ready', database: 'embedded' })
    // A journal entry, sealed with the key generated into DATA_DIR on this first start.
    const journal = { email: `journal-${Date.now()}@example.com`, password: 'a long and personal passphrase' }
    const registered = await fetch(`${first.url}/v1/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(journal) })
    const { accessToken } = (await registered.json()) as { accessToken: string }
    const written = await fetch(`${first.url}/v1/journal/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ body: 'Still readable after a restart.', mood: 6 }),
    })
    expect(written.status).toBe(201)
    const location = written.headers.get('location') ?? ''
    expect(await stopServer(first)).toBe(0)
    expect(first.logs().some((line) => line.msg === 'shut down cleanly')).toBe(true)

    // No HOST: the embedded demo listens on loopback only.
    const second = await startServer({ DATA_DIR: dataDir, HOST: '' })
    expect(new URL(second.url).hostname).toBe('127.0.0.1')
    expect(startupLine(second)).toMatchObject({ database: 'embedded', appliedMigrations: 0, demoDataLoaded: false })
    expect(second.logs().some((line) => String(line.msg).startsWith('DEMO ONLY'))).toBe(false)
    // Every start in demo mode shows the credentials again.
    expect(await stderrHolds(second, 'Show these again')).toContain(`DEMO_CLIENT_SECRET=${secret}\n`)
    expect((await readiness(second.url)).status).toBe(200)
    const login = await fetch(`${second.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(journal) })
    const again = (await login.json()) as { accessToken: string }
    const read = await fetch(`${second.url}${location}`, { headers: { authorization: `Bearer ${again.accessToken}` } })
    expect(read.status).toBe(200)
    expect(await read.json()).toMatchObject({ body: 'Still readable after a restart.', mood: 6 })
    expect(await stopServer(second)).toBe(0)
  })

  it.runIf(onPostgres())('migrates an empty Postgres database at start, recording each migration with its sha256', async () => {
    const scratch = await scratchDatabase()
    try {
      const server = await startServer({ DATABASE_URL: scratch.url ?? '', AUTH_SIGNING_KEYS: TEST_SIGNING_KEY, JOURNAL_ENCRYPTION_KEYS: TEST_JOURNAL_KEY })
      expect(startupLine(server)).toMatchObject({ database: 'postgres', appliedMigrations: readMigrations(MIGRATIONS_DIR).length, demoDataLoaded: false })
      expect((await readiness(server.url)).status).toBe(200)
      expect(await stopServer(server)).toBe(0)

      const rows = await scratch.db.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
        `select migration_name, checksum, finished_at from "_prisma_migrations" order by migration_name`,
      )
      expect(rows.map((row) => [row.migration_name, row.checksum])).toEqual(readMigrations(MIGRATIONS_DIR).map((m) => [m.name, sha256Hex(m.sql)]))
      expect(rows.every((row) => row.finished_at !== null)).toBe(true)
    } finally {
      await scratch.destroy()
    }
  })

  it.runIf(onPostgres())('refuses to start when an applied migration was edited', async () => {
    const scratch = await scratchDatabase()
    try {
      const server = await startServer({ DATABASE_URL: scratch.url ?? '', AUTH_SIGNING_KEYS: TEST_SIGNING_KEY, JOURNAL_ENCRYPTION_KEYS: TEST_JOURNAL_KEY })
      await stopServer(server)
      await scratch.db.query(`update "_prisma_migrations" set checksum = $1`, [sha256Hex('something else')])
      const run = runServer({ DATABASE_URL: scratch.url ?? '', AUTH_SIGNING_KEYS: TEST_SIGNING_KEY, JOURNAL_ENCRYPTION_KEYS: TEST_JOURNAL_KEY })
      expect(await run.exit).toBe(1)
      expect(run.stdout()).toMatch(/cannot start: applied migration\(s\) .*checksum mismatch/)
    } finally {
      await scratch.destroy()
    }
  })

  it('refuses to start on Postgres without its keys, in one configuration line, before touching the database', async () => {
    const scratch = await scratchDatabase()
    try {
      // An unreachable URL would do as well on the embedded run: nothing may connect to it.
      const url = scratch.url ?? 'postgresql://127.0.0.1:1/never-connected'
      const run = runServer({ DATABASE_URL: url })
      expect(await run.exit).toBe(1)
      expect(run.stderr().trim()).toMatch(
        /^Invalid configuration: AUTH_SIGNING_KEYS is required with DATABASE_URL .*npm run keys:generate`; JOURNAL_ENCRYPTION_KEYS is required with DATABASE_URL .*npm run keys:generate`$/,
      )
      const journalOnly = runServer({ DATABASE_URL: url, AUTH_SIGNING_KEYS: TEST_SIGNING_KEY })
      expect(await journalOnly.exit).toBe(1)
      expect(journalOnly.stderr().trim()).toMatch(/^Invalid configuration: JOURNAL_ENCRYPTION_KEYS is required with DATABASE_URL [^\n]*$/)
      // Nothing was migrated.
      if (onPostgres()) {
        const [table] = await scratch.db.query<{ exists: boolean }>(`select to_regclass('"_prisma_migrations"') is not null as exists`)
        expect(table?.exists).toBe(false)
      }
    } finally {
      await scratch.destroy()
    }
  })

  it('refuses malformed keys in one configuration line, before touching the database', async () => {
    const run = runServer({ DATABASE_URL: 'postgresql://127.0.0.1:1/never-connected', AUTH_SIGNING_KEYS: 'not a key', JOURNAL_ENCRYPTION_KEYS: TEST_JOURNAL_KEY })
    expect(await run.exit).toBe(1)
    expect(run.stderr().trim()).toMatch(/^Invalid configuration: AUTH_SIGNING_KEYS: must be a JWK[^\n]*$/)
  })
})
