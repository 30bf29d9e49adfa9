/**
 * The built service (`node dist/server.js`) as the benchmarks run it: its normal configuration on a
 * free loopback port, started and stopped by its process id, with its readiness timed and its memory
 * read from /proc. Shared by `npm run bench` and `npm run bench:import`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { generateSigningJwk } from '../../src/modules/auth/keys.js'
import { generateJournalKey } from '../../src/modules/journal/journal-keys.js'

export interface ServiceOptions {
  /** The repository: dist/server.js is started from there. */
  root: string
  databaseUrl: string
  /** The app client whose tokens requests carry. */
  client: { clientId: string; clientSecret: string }
  /** Where the service's stdout (its JSON log) goes; /dev/null by default. */
  logFile?: string
  /** Where its stderr goes. */
  errorFile: string
  /** Settings on top of the normal configuration. */
  env?: Record<string, string>
  /** How long to wait for GET /readyz → 200. */
  readyTimeoutSeconds?: number
  /** How long to wait, after that, for an in-process directory index to be built (`directoryIndex.state` in /readyz). */
  indexTimeoutSeconds?: number
  /** Progress lines. */
  say?: (line: string) => void
}

export interface Readiness {
  /** Milliseconds from spawning the process to the first 200 from /readyz. */
  readyMs: number
  /** What /readyz said about the directory index: absent when it says nothing. */
  index: { state: string; ms: number | null; detail: unknown } | null
}

export interface Service {
  pid: number
  base: string
  readiness: Readiness
  /** VmRSS and VmHWM (peak) of the service process, in bytes; null once it has exited. */
  memory(): { rss: number; peak: number } | null
  /** `Bearer …` for the client, renewed when half its lifetime is over. */
  authorization(): Promise<string>
  stop(): Promise<void>
}

/** A port nothing listens on right now (the kernel's choice). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** VmRSS and VmHWM of a process, in bytes (null when it is gone). */
export function processMemory(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
    return { rss: kb('VmRSS'), peak: kb('VmHWM') }
  } catch {
    return null
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** States of `directoryIndex.state` after which there is nothing more to wait for. */
const INDEX_SETTLED = new Set(['ready', 'off'])
const INDEX_FAILED = new Set(['failed', 'error'])

/**
 * Starts the service: authentication, rate-limit bookkeeping (its limit raised so it never refuses),
 * metrics and request logging at `info` all on, as an operator runs it.
 */
export async function startService(options: ServiceOptions): Promise<Service> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const out = openSync(options.logFile ?? '/dev/null', 'w')
  const err = openSync(options.errorFile, 'w')
  const started = performance.now()
  // As `npm start` and the Docker image run it (see package.json).
  const child: ChildProcess = spawn(process.execPath, ['--max-semi-space-size=32', 'dist/server.js'], {
    cwd: options.root,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: options.databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      AUTH_SIGNING_KEYS: JSON.stringify(await generateSigningJwk()),
      AUTH_ACCESS_TOKEN_TTL_SECONDS: '3600',
      JOURNAL_ENCRYPTION_KEYS: generateJournalKey(),
      RATE_LIMIT_MAX: '1000000000',
      ...options.env,
    },
    stdio: ['ignore', out, err],
  })
  closeSync(out)
  closeSync(err)
  // An object, not a variable: the exit handler changes it behind the type checker's back.
  const status = { exited: null as string | null }
  child.once('exit', (code, signal) => (status.exited = `exited (${signal ?? code})`))
  const pid = child.pid
  if (pid === undefined) throw new Error('could not start node dist/server.js')

  const stop = async () => {
    if (status.exited !== null) return
    const gone = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    await gone
    clearTimeout(timer)
  }

  let readiness: Readiness
  try {
    readiness = await awaitReadiness(base, started, options, () => status.exited)
  } catch (error) {
    await stop()
    const stderr = readFileSync(options.errorFile, 'utf8').trim().split('\n').slice(-20).join('\n')
    const why = error instanceof Error ? error.message : String(error)
    throw new Error(`${why}${stderr ? `\nits stderr (${options.errorFile}) ends with:\n${stderr}` : ''}`)
  }

  let token: { value: string; renewAt: number } | null = null
  const authorization = async () => {
    if (token === null || Date.now() > token.renewAt) {
      const res = await fetch(`${base}/v1/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: options.client.clientId, client_secret: options.client.clientSecret }),
      })
      if (!res.ok) throw new Error(`token request: ${res.status} ${await res.text()}`)
      const body = (await res.json()) as { access_token: string; expires_in: number }
      token = { value: `Bearer ${body.access_token}`, renewAt: Date.now() + (body.expires_in * 1000) / 2 }
    }
    return token.value
  }
  return { pid, base, readiness, memory: () => (status.exited === null ? processMemory(pid) : null), authorization, stop }
}

/**
 * Polls /readyz until 200, then, when its body has `directoryIndex.state`, until that state is `ready`
 * or `off` (or `failed`/`error`, or the index timeout). Exported to be tried against a stub server.
 */
export async function awaitReadiness(base: string, started: number, options: ServiceOptions, exited: () => string | null): Promise<Readiness> {
  const say = options.say ?? (() => undefined)
  const readyDeadline = started + (options.readyTimeoutSeconds ?? 120) * 1000
  let body: unknown = null
  let readyMs: number | null = null
  while (readyMs === null) {
    if (exited() !== null) throw new Error(`the service ${exited()} before it was ready`)
    if (performance.now() > readyDeadline) throw new Error(`the service was not ready within ${options.readyTimeoutSeconds ?? 120} s`)
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5000) })
      if (res.ok) {
        readyMs = performance.now() - started
        body = await res.json()
        break
      }
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
  say(`/readyz answered 200 after ${(readyMs / 1000).toFixed(1)} s`)

  const indexOf = (value: unknown): { state: string; detail: unknown } | null => {
    if (typeof value !== 'object' || value === null || !('directoryIndex' in value)) return null
    const index = value.directoryIndex
    if (typeof index !== 'object' || index === null || !('state' in index) || typeof index.state !== 'string') return null
    return { state: index.state, detail: index }
  }
  let index = indexOf(body)
  if (index === null) return { readyMs, index: null }
  const indexDeadline = performance.now() + (options.indexTimeoutSeconds ?? 300) * 1000
  let lastSaid = ''
  while (!INDEX_SETTLED.has(index.state) && !INDEX_FAILED.has(index.state) && performance.now() < indexDeadline) {
    if (exited() !== null) throw new Error(`the service ${exited()} while its directory index was ${index.state}`)
    if (index.state !== lastSaid) say(`directory index: ${index.state}…`)
    lastSaid = index.state
    await sleep(250)
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5000) })
      index = indexOf(await res.json()) ?? index
    } catch {
      // a slow answer while the index is built: ask again
    }
  }
  const settled = INDEX_SETTLED.has(index.state)
  const ms = settled ? performance.now() - started : null
  say(settled ? `directory index ${index.state} after ${((ms ?? 0) / 1000).toFixed(1)} s` : `directory index still ${index.state}: measuring anyway`)
  return { readyMs, index: { state: index.state, ms, detail: index.detail } }
}
