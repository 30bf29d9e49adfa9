/**
 * `npm run chaos`: the service under database faults, on a throw-away Postgres cluster of its own.
 *
 * Creates a Postgres cluster on a free port (pg_createcluster, trust auth on 127.0.0.1, dropped at the
 * end, on failure and on Ctrl-C too), starts the service on it, and runs a bounded write load with
 * Idempotency-Keys (journal entries, assessments, therapist curation, token refreshes) while, in turn:
 * Postgres stops fast, stops immediately, freezes (SIGSTOP/SIGCONT of the postmaster and its children),
 * and the service itself restarts (SIGTERM, then started again). Clients retry a write with the same
 * key (or externalId) on 503/504 and on connection errors, as the 503 contract tells them.
 *
 * Then it checks that every acknowledged write is there exactly once, that no key is stuck (each key's
 * retry gets its first response back, once the lease of an abandoned claim ran out), that every error
 * during the fault was a 503/504 problem+json within the request deadline, and that the service
 * recovered without a restart. One table; exit 1 on any breach. It never touches another cluster and
 * signals only processes it started (the service) or that belong to its own cluster.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

const execFileAsync = promisify(execFile)
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const VERSION = process.env.CHAOS_PG_VERSION ?? '15'
const CLUSTER = `chaos_${process.pid}`
const WORKERS = Number(process.env.CHAOS_WORKERS ?? 8)
/** The service's bounds under test, short so the run is short. */
const DEADLINE_MS = 4000
const LEASE_SECONDS = 4
const FAULT_MS = Number(process.env.CHAOS_FAULT_MS ?? 6000)
/** A response may take the deadline plus this before it counts as a hang. */
const SLACK_MS = 1500
/** A client gives up on one write after this long of retrying. */
const RETRY_BUDGET_MS = 60_000

const log = (message: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

// ---------------------------------------------------------------------------------------------
// The throw-away cluster

const pgPort = await freePort()
const servicePort = await freePort()
let clusterCreated = false
/** Async, so the clients' clocks keep running while Postgres stops or starts. */
const ctl = async (action: 'start' | 'stop', mode?: 'fast' | 'immediate') => {
  await execFileAsync('pg_ctlcluster', ['--skip-systemctl-redirect', ...(mode ? ['--mode', mode] : []), VERSION, CLUSTER, action])
}

async function createCluster(): Promise<void> {
  log(`creating cluster ${VERSION}/${CLUSTER} on port ${pgPort}`)
  execFileSync('pg_createcluster', [VERSION, CLUSTER, '-p', String(pgPort), '--start-conf', 'manual', '--', '--auth-local=trust', '--auth-host=trust'], { stdio: 'pipe' })
  clusterCreated = true
  const confDir = `/etc/postgresql/${VERSION}/${CLUSTER}`
  execFileSync('sh', ['-c', `printf 'local all all trust\\nhost all all 127.0.0.1/32 trust\\n' > ${confDir}/pg_hba.conf`])
  execFileSync('sh', ['-c', `printf "listen_addresses = '127.0.0.1'\\nfsync = off\\nmax_connections = 60\\n" >> ${confDir}/postgresql.conf`])
  await ctl('start')
}

function dropCluster(): void {
  if (!clusterCreated) return
  clusterCreated = false
  try {
    resumeFrozen()
    execFileSync('pg_dropcluster', ['--stop', VERSION, CLUSTER], { stdio: 'pipe' })
    log(`dropped cluster ${CLUSTER}`)
  } catch (error) {
    log(`could not drop cluster ${CLUSTER}: ${(error as Error).message}`)
  }
}

/** The postmaster of our cluster and its children, from its own postmaster.pid. */
function clusterPids(): number[] {
  const dataDir = `/var/lib/postgresql/${VERSION}/${CLUSTER}`
  const postmaster = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0])
  let children: number[] = []
  try {
    children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number)
  } catch {
    children = []
  }
  return [postmaster, ...children]
}

let frozen: number[] = []
function resumeFrozen(): void {
  for (const pid of frozen) {
    try {
      process.kill(pid, 'SIGCONT')
    } catch {
      // gone
    }
  }
  frozen = []
}

// ---------------------------------------------------------------------------------------------
// The service

const DATABASE_URL = `postgresql://postgres@127.0.0.1:${pgPort}/postgres`
const env = {
  ...process.env,
  PORT: String(servicePort),
  HOST: '127.0.0.1',
  DATABASE_URL,
  AUTH_SIGNING_KEYS: JSON.stringify({ ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: 'chaos' }),
  JOURNAL_ENCRYPTION_KEYS: `chaos:${randomBytes(32).toString('base64')}`,
  LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'fatal',
  RATE_LIMIT_MAX: '1000000',
  RATE_LIMIT_AUTH_MAX: '1000000',
  RATE_LIMIT_ACCOUNT_MAX: '1000000',
  REQUEST_DEADLINE_MS: String(DEADLINE_MS),
  DB_CONNECT_TIMEOUT_MS: '1500',
  DB_STATEMENT_TIMEOUT_MS: '2000',
  IDEMPOTENCY_LEASE_SECONDS: String(LEASE_SECONDS),
  DB_START_RETRY_SECONDS: '30',
  DIRECTORY_INDEX: 'off',
  REDIS_URL: '',
}
let service: ChildProcess | undefined

async function startService(): Promise<void> {
  service = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] })
  const started = Date.now()
  while (Date.now() - started < 60_000) {
    try {
      const res = await fetch(`${BASE}/readyz`, { signal: AbortSignal.timeout(1000) })
      if (res.status === 200) return
    } catch {
      // not listening yet
    }
    await sleep(200)
  }
  throw new Error('the service did not become ready within 60 s')
}

async function stopService(): Promise<void> {
  const child = service
  if (!child || child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await Promise.race([exited, sleep(15_000)])
  if (child.exitCode === null) child.kill('SIGKILL')
}

// ---------------------------------------------------------------------------------------------
// Clients

const BASE = `http://127.0.0.1:${servicePort}`

interface Observation {
  status: number
  ms: number
  problem: boolean
  at: number
  /** A connection error (service restarting) instead of a response. */
  network?: string
}

interface Scenario {
  name: string
  observations: Observation[]
  faultStart: number
  healedAt: number
  recoveredAt: number | null
}

let current: Scenario | undefined

async function call(method: string, url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown; problem: boolean } | null> {
  const started = Date.now()
  try {
    const res = await fetch(`${BASE}${url}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(DEADLINE_MS * 4),
    })
    const text = await res.text()
    const problem = (res.headers.get('content-type') ?? '').startsWith('application/problem+json')
    current?.observations.push({ status: res.status, ms: Date.now() - started, problem, at: started })
    if (current && current.recoveredAt === null && current.healedAt > 0 && res.status < 300 && method !== 'GET') current.recoveredAt = Date.now()
    let json: unknown = null
    try {
      json = JSON.parse(text)
    } catch {
      json = text
    }
    return { status: res.status, json, problem }
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name
    current?.observations.push({ status: 0, ms: Date.now() - started, problem: false, at: started, network: cause })
    return null
  }
}

const RETRYABLE = (status: number | undefined, json: unknown) =>
  status === undefined || status === 503 || status === 504 || (status === 409 && (json as { code?: string })?.code === 'idempotency_request_in_progress')

/** Sends one write until it is acknowledged, with the same key each time. */
async function until<T>(send: () => Promise<{ status: number; json: unknown } | null>, done: (res: { status: number; json: unknown }) => T | undefined): Promise<T | undefined> {
  const started = Date.now()
  while (Date.now() - started < RETRY_BUDGET_MS) {
    const res = await send()
    if (res) {
      const value = done(res)
      if (value !== undefined) return value
      if (!RETRYABLE(res.status, res.json)) throw new Error(`unexpected answer ${res.status}: ${JSON.stringify(res.json).slice(0, 300)}`)
    }
    await sleep(150)
  }
  return undefined
}

interface Worker {
  email: string
  userId: string
  access: string
  refresh: string
  journal: Map<string, string> // idempotency key → id
  assessments: Map<string, string>
  therapists: Map<string, string> // externalId → id
  refreshes: number
  unresolved: number
}

const PASSWORD = 'chaos monkey passphrase 42'
const GAD7 = { instrumentId: 'gad-7', answers: Array.from({ length: 7 }, (_, index) => ({ itemId: `gad7-${index + 1}`, value: index % 4 })) }
let curatorToken = ''

async function newWorker(): Promise<Worker> {
  const email = `chaos-${randomUUID()}@example.com`
  const res = await call('POST', '/v1/auth/register', { email, password: PASSWORD })
  if (!res || res.status !== 201) throw new Error(`register failed: ${res?.status}`)
  const body = res.json as { user: { id: string }; accessToken: string; refreshToken: string }
  return { email, userId: body.user.id, access: body.accessToken, refresh: body.refreshToken, journal: new Map(), assessments: new Map(), therapists: new Map(), refreshes: 0, unresolved: 0 }
}

async function signIn(worker: Worker): Promise<void> {
  const res = await until(
    () => call('POST', '/v1/auth/login', { email: worker.email, password: PASSWORD }),
    (r) => (r.status === 200 ? (r.json as { accessToken: string; refreshToken: string }) : undefined),
  )
  if (!res) throw new Error('could not sign in again')
  worker.access = res.accessToken
  worker.refresh = res.refreshToken
}

async function oneWrite(worker: Worker, n: number): Promise<void> {
  const auth = { authorization: `Bearer ${worker.access}` }
  const kind = n % 4
  if (kind === 0 || kind === 1) {
    const key = randomUUID()
    const [url, body, into] =
      kind === 0 ? ['/v1/journal/entries', { body: `chaos entry ${key}`, mood: 5 }, worker.journal] : ['/v1/assessments', GAD7, worker.assessments]
    const id = await until(
      () => call('POST', url, body, { ...auth, 'idempotency-key': key }),
      (r) => (r.status === 201 ? (r.json as { id: string }).id : r.status === 401 ? null : undefined),
    )
    if (id === null) return signIn(worker)
    if (id === undefined) worker.unresolved++
    else into.set(key, id)
    return
  }
  if (kind === 2) {
    const externalId = `chaos-${randomUUID()}`
    const therapist = { externalId, name: 'Chaos Curated', license: { type: 'lcsw', state: 'CA' }, formats: ['telehealth'], acceptingNewClients: true }
    // Curation retries by externalId: a create whose answer was lost says so (409 with the id).
    const id = await until(
      () => call('POST', '/v1/therapists', therapist, { authorization: `Bearer ${curatorToken}` }),
      (r) =>
        r.status === 201 ? (r.json as { id: string }).id : r.status === 409 && (r.json as { code?: string }).code === 'external_id_taken' ? (r.json as { therapistId: string }).therapistId : undefined,
    )
    if (id === undefined) worker.unresolved++
    else worker.therapists.set(externalId, id)
    return
  }
  const res = await call('POST', '/v1/auth/refresh', { refreshToken: worker.refresh })
  if (res?.status === 200) {
    const pair = res.json as { accessToken: string; refreshToken: string }
    worker.access = pair.accessToken
    worker.refresh = pair.refreshToken
    worker.refreshes++
  } else if (res && res.status === 401) {
    // A rotation whose answer was lost makes the old token a reuse: sign in again, as an app would.
    await signIn(worker)
  }
}

let running = false
async function load(worker: Worker): Promise<void> {
  for (let n = Math.floor(Math.random() * 4); running; n++) await oneWrite(worker, n)
}

// ---------------------------------------------------------------------------------------------
// Checks

interface Row {
  scenario: string
  acknowledged: number
  missing: number
  duplicates: number
  stuckKeys: number
  other5xx: number
  unavailable: number
  worstMs: number
  recoveryMs: number | null
  breaches: string[]
}

async function check(scenario: Scenario, workers: Worker[], db: pg.Client, before: Map<string, { journal: number; assessments: number }>, therapistsBefore: number): Promise<Row> {
  const breaches: string[] = []
  let acknowledged = 0
  let missing = 0
  let duplicates = 0
  let stuckKeys = 0
  const counted = (rows: { n: string }[]) => Number(rows[0]?.n ?? 0)
  for (const worker of workers) {
    const journalIds = [...worker.journal.values()]
    const assessmentIds = [...worker.assessments.values()]
    acknowledged += journalIds.length + assessmentIds.length + worker.therapists.size + worker.refreshes
    const present = async (table: string, ids: string[]) =>
      ids.length === 0 ? 0 : counted((await db.query<{ n: string }>(`select count(*) as n from ${table} where id = any($1::uuid[])`, [ids])).rows)
    missing += journalIds.length - (await present('journal_entries', journalIds))
    missing += assessmentIds.length - (await present('assessments', assessmentIds))
    missing += worker.therapists.size - (await present('therapist', [...worker.therapists.values()]))
    const rows = {
      journal: counted((await db.query<{ n: string }>('select count(*) as n from journal_entries where user_id = $1', [worker.userId])).rows),
      assessments: counted((await db.query<{ n: string }>('select count(*) as n from assessments where user_id = $1', [worker.userId])).rows),
    }
    // Every write each client made was acknowledged (or counted unresolved): more rows are duplicates.
    duplicates += Math.max(0, rows.journal - worker.journal.size - (before.get(worker.userId)?.journal ?? 0) - worker.unresolved)
    duplicates += Math.max(0, rows.assessments - worker.assessments.size - (before.get(worker.userId)?.assessments ?? 0) - worker.unresolved)
    if (new Set(journalIds).size !== journalIds.length || new Set(assessmentIds).size !== assessmentIds.length) duplicates++
    if (worker.unresolved > 0) breaches.push(`${worker.unresolved} write(s) never acknowledged within ${RETRY_BUDGET_MS} ms`)
  }
  const therapistRows = counted((await db.query<{ n: string }>(`select count(*) as n from therapist where external_id like 'chaos-%'`)).rows) - therapistsBefore
  const therapistAcks = workers.reduce((sum, worker) => sum + worker.therapists.size, 0)
  duplicates += Math.max(0, therapistRows - therapistAcks - workers.reduce((sum, worker) => sum + worker.unresolved, 0))

  // No stuck key: after the lease, each key's retry gets its first response back (201 replayed, same id).
  await sleep(LEASE_SECONDS * 1000 + 500)
  const saved = current
  current = undefined
  for (const worker of workers) {
    const auth = { authorization: `Bearer ${worker.access}` }
    for (const [map, url, body] of [
      [worker.journal, '/v1/journal/entries', null],
      [worker.assessments, '/v1/assessments', GAD7],
    ] as const) {
      for (const [key, id] of map) {
        const res = await call('POST', url, body ?? { body: `chaos entry ${key}`, mood: 5 }, { ...auth, 'idempotency-key': key })
        const replayedId = (res?.json as { id?: string } | undefined)?.id
        if (!res || res.status !== 201 || replayedId !== id) {
          if (res?.status === 201) duplicates++
          else stuckKeys++
        }
      }
    }
  }
  current = saved
  const pending = counted((await db.query<{ n: string }>('select count(*) as n from idempotency_keys where response_status is null and expires_at < now()')).rows)
  stuckKeys += pending

  const during = scenario.observations.filter((o) => o.at >= scenario.faultStart)
  const other5xx = during.filter((o) => o.status >= 500 && o.status !== 503 && o.status !== 504).length
  const nonProblem = during.filter((o) => o.status >= 500 && !o.problem).length
  const worstMs = Math.max(0, ...scenario.observations.map((o) => o.ms))
  if (missing > 0) breaches.push(`${missing} acknowledged write(s) missing`)
  if (duplicates > 0) breaches.push(`${duplicates} duplicate(s)`)
  if (stuckKeys > 0) breaches.push(`${stuckKeys} stuck key(s)`)
  if (other5xx > 0) breaches.push(`${other5xx} 5xx other than 503/504`)
  if (nonProblem > 0) breaches.push(`${nonProblem} 5xx not problem+json`)
  if (worstMs > DEADLINE_MS + SLACK_MS) breaches.push(`a response took ${worstMs} ms (deadline ${DEADLINE_MS} ms)`)
  if (scenario.recoveredAt === null) breaches.push('no successful write after the fault ended')
  return {
    scenario: scenario.name,
    acknowledged,
    missing,
    duplicates,
    stuckKeys,
    other5xx,
    unavailable: during.filter((o) => o.status === 503 || o.status === 504).length,
    worstMs,
    recoveryMs: scenario.recoveredAt === null ? null : scenario.recoveredAt - scenario.healedAt,
    breaches,
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

interface Fault {
  name: string
  inject(): Promise<void>
  heal(): Promise<void>
}

const FAULTS: Fault[] = [
  { name: 'postgres stop -m fast', inject: () => ctl('stop', 'fast'), heal: () => ctl('start') },
  { name: 'postgres stop -m immediate', inject: () => ctl('stop', 'immediate'), heal: () => ctl('start') },
  {
    name: 'postgres frozen (SIGSTOP)',
    inject: async () => {
      frozen = clusterPids()
      for (const pid of frozen) process.kill(pid, 'SIGSTOP')
    },
    heal: async () => resumeFrozen(),
  },
  { name: 'service restart (SIGTERM)', inject: () => stopService(), heal: () => startService() },
]

async function main(): Promise<number> {
  await createCluster()
  await startService()
  const connectChecker = async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL })
    client.on('error', () => undefined)
    await client.connect()
    return client
  }
  let db = await connectChecker()
  const { createApiClient } = await import('../src/modules/auth/clients-service.js')
  const { openPostgres } = await import('../src/db/database.js')
  const admin = openPostgres(DATABASE_URL, { poolSize: 1 })
  const client = await createApiClient(admin.prisma, { name: 'chaos curator', scopes: ['directory:read', 'directory:write'] })
  await admin.close()
  const token = await call('POST', '/v1/oauth/token', { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret })
  curatorToken = (token?.json as { access_token: string }).access_token

  const rows: Row[] = []
  for (const fault of FAULTS) {
    const workers = await Promise.all(Array.from({ length: WORKERS }, () => newWorker()))
    const before = new Map(workers.map((worker) => [worker.userId, { journal: 0, assessments: 0 }]))
    const therapistsBefore = Number((await db.query<{ n: string }>(`select count(*) as n from therapist where external_id like 'chaos-%'`)).rows[0]?.n ?? 0)
    const scenario: Scenario = { name: fault.name, observations: [], faultStart: Number.MAX_SAFE_INTEGER, healedAt: 0, recoveredAt: null }
    current = scenario
    running = true
    // Curator tokens last 15 minutes: enough for the run.
    const loads = workers.map((worker) => load(worker))
    await sleep(2000)
    log(`${fault.name}: fault`)
    scenario.faultStart = Date.now()
    await fault.inject()
    await sleep(FAULT_MS)
    log(`${fault.name}: heal`)
    await fault.heal()
    scenario.healedAt = Date.now()
    for (let waited = 0; scenario.recoveredAt === null && waited < 30_000; waited += 200) await sleep(200)
    await sleep(2000)
    running = false
    await Promise.all(loads)
    // The checking connection may have died with the server.
    try {
      await db.query('select 1')
    } catch {
      await db.end().catch(() => undefined)
      db = await connectChecker()
    }
    const row = await check(scenario, workers, db, before, therapistsBefore)
    rows.push(row)
    log(`${fault.name}: ${row.breaches.length === 0 ? 'ok' : row.breaches.join('; ')}`)
  }
  await db.end().catch(() => undefined)

  const header = ['scenario', 'acknowledged', 'missing', 'duplicates', 'stuck keys', '5xx not 503/504', '503/504 answered', 'worst ms', 'recovery ms']
  const table = rows.map((row) =>
    [row.scenario, row.acknowledged, row.missing, row.duplicates, row.stuckKeys, row.other5xx, row.unavailable, row.worstMs, row.recoveryMs ?? 'never'].map(String),
  )
  const widths = header.map((title, index) => Math.max(title.length, ...table.map((cells) => cells[index]?.length ?? 0)))
  const line = (cells: string[]) => `| ${cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0))).join(' | ')} |`
  console.log(line(header))
  console.log(`|${widths.map((width, index) => (index === 0 ? '-'.repeat(width + 2) : `${'-'.repeat(width + 1)}:`)).join('|')}|`)
  for (const cells of table) console.log(line(cells))
  const breaches = rows.flatMap((row) => row.breaches.map((breach) => `${row.scenario}: ${breach}`))
  for (const breach of breaches) console.log(`BREACH ${breach}`)
  console.log(`deadline ${DEADLINE_MS} ms, lease ${LEASE_SECONDS} s, ${WORKERS} clients, faults of ${FAULT_MS} ms`)
  return breaches.length === 0 ? 0 : 1
}

let cleaningUp = false
async function cleanUp(): Promise<void> {
  if (cleaningUp) return
  cleaningUp = true
  running = false
  resumeFrozen()
  await stopService().catch(() => undefined)
  dropCluster()
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`)
    void cleanUp().finally(() => process.exit(130))
  })
}

let code = 1
try {
  code = await main()
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
} finally {
  await cleanUp()
}
process.exit(code)
