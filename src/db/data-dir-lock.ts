import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'

/**
 * The embedded database (PGlite) is single-process: two processes opening one DATA_DIR each write
 * their own copy and lose each other's changes. The first process to open it writes a lock file with
 * its process id; any other that tries while that process lives is refused with a message naming it.
 * A lock left by a process that is gone (killed, crashed) is taken over.
 */

export const LOCK_FILE = 'therapath.lock'

interface LockOwner {
  pid: number
  command: string
  since: string
}

/** DATA_DIR is held by another running process. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError'
  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner,
  ) {
    super(
      `the embedded database in ${dataDir} is in use by process ${owner.pid} (${owner.command}, since ${owner.since}); ` +
        'only one process may open it: stop that process first (e.g. stop `npm start`), run this, then start it again, or use Postgres (DATABASE_URL)',
    )
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>
    return typeof parsed.pid === 'number' ? { pid: parsed.pid, command: String(parsed.command ?? 'unknown'), since: String(parsed.since ?? 'unknown') } : undefined
  } catch {
    return undefined
  }
}

export interface DataDirLock {
  release(): void
}

/**
 * Takes DATA_DIR for this process.
 * @throws DataDirLockedError when another live process holds it
 */
export function lockDataDir(dataDir: string, command = process.argv.slice(1).map((arg) => path.basename(arg)).join(' ') || 'node'): DataDirLock {
  mkdirSync(dataDir, { recursive: true })
  const file = path.join(dataDir, LOCK_FILE)
  const me: LockOwner = { pid: process.pid, command, since: new Date().toISOString() }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      try {
        writeSync(fd, JSON.stringify(me))
      } finally {
        closeSync(fd)
      }
      return {
        release() {
          if (readOwner(file)?.pid === process.pid) rmSync(file, { force: true })
        },
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const owner = readOwner(file)
      if (owner && owner.pid !== process.pid && isAlive(owner.pid)) throw new DataDirLockedError(path.resolve(dataDir), owner)
      // Left by a process that is gone (or by this one, before a restart in place): take it over.
      rmSync(file, { force: true })
    }
  }
  throw new Error(`could not lock ${file}`)
}
