/**
 * One HTTP load against the service: wrk (the default, as the anchors use it) or autocannon, over a
 * list of request paths taken in turn, for a fixed time at a fixed number of connections.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import autocannon from 'autocannon'

export type LoadTool = 'wrk' | 'autocannon'

export interface LoadOptions {
  tool: LoadTool
  /** `http://host:port` */
  base: string
  /** Request paths (with query strings), taken in turn. */
  paths: string[]
  connections: number
  seconds: number
  headers: Record<string, string>
  /** A scratch folder for wrk's list of paths. */
  workDir: string
}

export interface LoadResult {
  requests: number
  reqPerSec: number
  /** Milliseconds. */
  p50: number
  p99: number
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number
  /** Average response size (headers included for wrk). */
  bytesPerRequest: number
}

/**
 * Far above any answer we expect: a slow request is measured, not dropped (wrk leaves timed-out
 * requests out of its latency statistics, which would flatter the p99).
 */
const TIMEOUT_SECONDS = 30

const WRK_SCRIPT = path.join(import.meta.dirname, 'wrk-paths.lua')

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result = await (options.tool === 'wrk' ? runWrk(options) : runAutocannon(options))
  // No request finished within the load: no latency was measured (the tools report 0).
  return result.requests > 0 ? result : { ...result, reqPerSec: 0, p50: NaN, p99: NaN }
}

async function runWrk({ base, paths, connections, seconds, headers, workDir }: LoadOptions): Promise<LoadResult> {
  const pathsFile = path.join(workDir, 'wrk-paths.txt')
  writeFileSync(pathsFile, `${paths.join('\n')}\n`)
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, `--timeout`, `${TIMEOUT_SECONDS}s`, '-s', WRK_SCRIPT]
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`)
  args.push(base, '--', pathsFile)
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}: ${text.trim()}`))))
  })
  const line = /^BENCHJSON (.+)$/m.exec(output)?.[1]
  if (!line) throw new Error(`no summary from wrk: ${output.trim()}`)
  const r = JSON.parse(line) as Record<'requests' | 'duration_us' | 'bytes' | 'p50_us' | 'p99_us' | 'connect' | 'read' | 'write' | 'status' | 'timeout', number>
  return {
    requests: r.requests,
    reqPerSec: r.requests / (r.duration_us / 1e6),
    p50: r.p50_us / 1000,
    p99: r.p99_us / 1000,
    errors: r.connect + r.read + r.write + r.status + r.timeout,
    bytesPerRequest: r.requests > 0 ? r.bytes / r.requests : 0,
  }
}

async function runAutocannon({ base, paths, connections, seconds, headers }: LoadOptions): Promise<LoadResult> {
  let at = Math.floor(Math.random() * paths.length)
  const next = () => {
    at = (at + 1) % paths.length
    return paths[at] ?? '/'
  }
  const result = await autocannon({
    url: base,
    headers,
    connections,
    duration: seconds,
    timeout: TIMEOUT_SECONDS,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: next() }) }],
  })
  return {
    requests: result.requests.total,
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx, // autocannon counts timeouts among its errors
    bytesPerRequest: result.requests.total > 0 ? result.throughput.total / result.requests.total : 0,
  }
}
