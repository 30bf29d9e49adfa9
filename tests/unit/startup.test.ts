import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../src/db/data-dir-lock.js'
import { openPostgres } from '../../src/db/database.js'
import { DatabaseUnreachableError, waitForDatabase } from '../../src/db/startup.js'
import { capturingLogger } from '../helpers/app.js'

describe('start with the database down (defect 10)', () => {
  it('retries with backoff, one log line per attempt, then gives up with one line', async () => {
    const db = openPostgres('postgresql://postgres@127.0.0.1:1/none', { poolSize: 1, connectTimeoutMs: 1000 })
    const log = capturingLogger('warn')
    let now = 0
    const waits: number[] = []
    const clock = { now: () => now, sleep: async (ms: number) => void (waits.push(ms), (now += ms)) }
    try {
      const failure = await waitForDatabase(db, log.logger, 10, clock).catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(DatabaseUnreachableError)
      expect((failure as Error).message).not.toContain('\n')
      expect((failure as Error).message).toMatch(/unreachable after \d+ attempts in 10 s \(DB_START_RETRY_SECONDS\): .*ECONNREFUSED/)
      expect(waits.slice(0, 4)).toEqual([500, 1000, 2000, 4000])
      expect(waits.reduce((sum, ms) => sum + ms, 0)).toBe(10_000)
      const lines = log.lines().filter((line) => String(line.msg).startsWith('database unreachable'))
      expect(lines).toHaveLength(waits.length)
      expect(lines[0]).toMatchObject({ attempt: 1 })
    } finally {
      await db.close()
    }
  })

  it('does not retry an error that is not about reaching the database', async () => {
    const log = capturingLogger('warn')
    const broken = { query: async () => Promise.reject(Object.assign(new Error('password authentication failed'), { code: '28P01' })) }
    await expect(waitForDatabase(broken, log.logger, 10)).rejects.toThrow('password authentication failed')
    expect(log.lines()).toHaveLength(0)
  })
})

describe('the embedded database is single-process (defect 9)', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  const dataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'therapath-lock-'))
    dirs.push(dir)
    return dir
  }

  it('refuses a DATA_DIR another live process holds, naming that process', () => {
    const dir = dataDir()
    // The parent process (vitest's) stands in for a running server.
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, command: 'dist/server.js', since: '2026-11-30T12:00:00.000Z' }))
    expect(() => lockDataDir(dir, 'create-client.js')).toThrow(DataDirLockedError)
    expect(() => lockDataDir(dir, 'create-client.js')).toThrow(new RegExp(`in use by process ${process.ppid} \\(dist/server.js`))
  })

  it('takes over a lock left by a process that is gone, and releases its own', () => {
    const dir = dataDir()
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 12345, command: 'crashed', since: 'then' }))
    const lock = lockDataDir(dir, 'server.js')
    expect(JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, command: 'server.js' })
    lock.release()
    expect(() => readFileSync(path.join(dir, LOCK_FILE))).toThrow()
  })
})
