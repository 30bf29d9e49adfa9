/**
 * `npm run readme:check`: runs the README's walkthrough as written, so it cannot rot. The walkthrough is
 * every fenced `sh` block of README.md that follows a `<!-- walkthrough -->` line; they run in order in
 * one bash, with `set -euo pipefail` and `curl` failing on any HTTP error (the printed bodies stay as a
 * reader sees them).
 *
 * By default it starts the built service as `npm start` does (embedded database, demo data) on a free
 * port with a fresh data folder, waits for /readyz, runs the walkthrough from the repository root with
 * `API` and `DATA_DIR` set, and stops the service. `--url URL [--data-dir DIR]` runs it against a server
 * that is already up instead. `--print` only prints the extracted script. Exits with the walkthrough's
 * status and prints how long each part took.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

const ROOT = path.resolve(import.meta.dirname, '..')
const MARKER = '<!-- walkthrough -->'

/** The marked blocks of a Markdown text, in order. */
function walkthroughBlocks(markdown: string): string[] {
  const lines = markdown.split('\n')
  const blocks: string[] = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== MARKER) continue
    const fence = lines[i + 1]?.trim() ?? ''
    if (!/^```(sh|bash)$/.test(fence)) throw new Error(`README.md line ${i + 1}: ${MARKER} must be followed by a \`\`\`sh fence`)
    const body: string[] = []
    let j = i + 2
    for (; j < lines.length && lines[j]?.trim() !== '```'; j++) body.push(lines[j] ?? '')
    if (j === lines.length) throw new Error(`README.md line ${i + 2}: unclosed fence`)
    blocks.push(body.join('\n'))
    i = j
  }
  return blocks
}

/** The blocks as one bash script. */
function walkthroughScript(blocks: string[]): string {
  const parts = blocks.map((block, index) => `printf '\\n### walkthrough block %s of %s\\n' ${index + 1} ${blocks.length}\n${block}`)
  return [
    'set -euo pipefail',
    // What a reader sees, but an HTTP error stops the run (and still prints the problem body).
    'curl() { command curl --fail-with-body --show-error "$@"; }',
    ...parts,
    "printf '\\n### walkthrough done\\n'",
    '',
  ].join('\n')
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`

async function startService(dataDir: string): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', LOG_FORMAT: 'json', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  let buffered = ''
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      for (const line of buffered.split('\n').slice(0, -1)) {
        try {
          const entry = JSON.parse(line) as { address?: unknown; startupMs?: unknown }
          if (typeof entry.address === 'string' && typeof entry.startupMs === 'number') resolve(entry.address)
        } catch {
          // not a JSON line
        }
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1)
    })
    void exited.then((code) => reject(new Error(`the service exited (${code}) before listening`)))
  })
  child.stdout?.resume()
  return { child, url, exited }
}

async function waitReady(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const status = await fetch(`${url}/readyz`).then(
      (res) => res.status,
      () => 0,
    )
    if (status === 200) return
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`${url}/readyz did not answer 200 within ${timeoutMs / 1000} s`)
}

async function runScript(script: string, env: Record<string, string>): Promise<number | null> {
  const child = spawn('bash', ['-c', script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] })
  return new Promise((resolve) => child.on('exit', resolve))
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { url: { type: 'string' }, 'data-dir': { type: 'string' }, print: { type: 'boolean' } } })
  const script = walkthroughScript(walkthroughBlocks(readFileSync(path.join(ROOT, 'README.md'), 'utf8')))
  if (values.print) {
    process.stdout.write(script)
    return 0
  }
  if (values.url) {
    const env: Record<string, string> = { API: values.url.replace(/\/$/, '') }
    if (values['data-dir']) env.DATA_DIR = values['data-dir']
    return (await runScript(script, env)) ?? 1
  }

  const dataDir = mkdtempSync(path.join(tmpdir(), 'therapath-readme-'))
  const started = performance.now()
  const service = await startService(dataDir)
  try {
    console.log(`readme:check: listening on ${service.url} after ${seconds(started)}`)
    await waitReady(service.url)
    console.log(`readme:check: ready after ${seconds(started)}`)
    const walked = performance.now()
    const status = await runScript(script, { API: service.url, DATA_DIR: dataDir })
    console.log(`readme:check: walkthrough ${status === 0 ? 'passed' : `FAILED (exit ${status})`} in ${seconds(walked)}`)
    return status ?? 1
  } finally {
    service.child.kill('SIGTERM')
    await service.exited
    rmSync(dataDir, { recursive: true, force: true })
  }
}

process.exitCode = await main()
