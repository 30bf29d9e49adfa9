/**
 * The lean peers of issue 10, measured in the same run: `anchor-bench.sh` from the shared anchors
 * (read-only material outside the repo, called by path) builds its own 100,000-row `bench_anchor`
 * database if needed, starts `anchor-server.mjs` (Fastify 5 + pg, named statements, response schema)
 * and loads its peer-core / peer-fts / peer-geo routes with the same tool, connections and duration
 * as Therapath. Its raw outputs stay in `outDir`; this reads their results-r1.tsv.
 */
import { spawn } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import type { LoadTool } from './load.js'
import type { PeerKind } from './shapes.js'
import { freePort } from './service.js'

export interface PeerResult {
  label: string
  kind: PeerKind
  tool: string
  reqPerSec: number
  p50: number
  p99: number
  errors: number
  bytes: number
  /** % of the CPU idle in the second before the load, as anchor-bench.sh measured it. */
  idleBefore: number
}

export interface PeerOptions {
  anchorsDir: string
  kinds: PeerKind[]
  tool: LoadTool
  seconds: number
  warmup: number
  connections: number
  /** Postgres to run them on (host, port, user, password; the database is always the anchors' own). */
  databaseUrl: string
  outDir: string
  say: (line: string) => void
}

export async function runPeers(options: PeerOptions): Promise<Map<PeerKind, PeerResult>> {
  const script = path.join(options.anchorsDir, 'anchor-bench.sh')
  if (!existsSync(script)) throw new Error(`no ${script}: set --anchors-dir or ANCHORS_DIR to the shared anchors folder`)
  rmSync(options.outDir, { recursive: true, force: true })
  mkdirSync(options.outDir, { recursive: true })
  const url = new URL(options.databaseUrl)
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PGHOST: url.hostname || '127.0.0.1',
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username) || 'postgres',
    // Ports of our choosing, so a run of the anchors elsewhere on this machine does not collide with ours.
    PEER_PORT: String(await freePort()),
    HELLO_PORT: String(await freePort()),
  }
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password)
  const args = [
    script,
    '--only', options.kinds.map((kind) => `peer-${kind}`).join(','),
    '--tool', options.tool,
    '-d', String(options.seconds),
    '-w', String(options.warmup),
    '-c', String(options.connections),
    '--out', options.outDir,
  ]
  const log = createWriteStream(path.join(options.outDir, 'anchor-bench.log'))
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('bash', args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.pipe(log, { end: false })
    let pending = ''
    child.stderr.on('data', (chunk: Buffer) => {
      log.write(chunk)
      pending += chunk.toString()
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) if (line.trim()) options.say(`[anchors] ${line}`)
    })
    child.on('error', reject)
    child.on('close', resolve)
  })
  await new Promise((resolve) => log.end(resolve))
  if (code !== 0) throw new Error(`anchor-bench.sh exited with ${code} (see ${path.join(options.outDir, 'anchor-bench.log')})`)

  const results = new Map<PeerKind, PeerResult>()
  const tsv = path.join(options.outDir, 'results-r1.tsv')
  const [header, ...lines] = readFileSync(tsv, 'utf8').trim().split('\n')
  const columns = (header ?? '').split('\t')
  for (const line of lines) {
    const cells = Object.fromEntries(line.split('\t').map((cell, i) => [columns[i] ?? String(i), cell]))
    const kind = cells.kind as PeerKind
    if (!options.kinds.includes(kind) || cells.label !== `peer-${kind}`) continue
    results.set(kind, {
      label: cells.label,
      kind,
      tool: cells.tool ?? '',
      reqPerSec: Number(cells.rps),
      p50: Number(cells.p50_ms),
      p99: Number(cells.p99_ms),
      errors: Number(cells.errors),
      bytes: Number(cells.bytes),
      idleBefore: Number(cells.idle_before),
    })
  }
  return results
}
