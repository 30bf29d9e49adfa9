/**
 * `npm run fleet`: Therapath as a fleet, on this machine, end to end. Creates a throw-away Postgres primary
 * and a streaming replica (pg_createcluster + pg_basebackup on free ports; the cluster on 5432 is never
 * touched), starts two instances of the built service (`node dist/server.js`) on them with shared keys,
 * and, under a bounded mixed load (directory searches and profiles, journal and assessment writes), checks
 * and prints:
 *  - throughput with one instance and with two;
 *  - that directory reads spread to the replica (the instances' /metrics);
 *  - that a therapist added through A is visible in searches and profiles through B within 1 s plus the
 *    replica's lag (measured on the replica itself);
 *  - that stopping the replica mid-load moves reads to the primary with no failed request, and that they
 *    return when it is back;
 *  - that a rolling restart of both instances fails no request.
 * The load generator is the load balancer: it polls each instance's /readyz and sends nothing to an
 * instance that is not ready. It does not retry: a refused connection or a 5xx counts as failed.
 * Exits 1 on any failed request or a stale read past the bound; drops both clusters on every way out.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { generateSigningJwk } from '../src/modules/auth/keys.js'
import { generateJournalKey } from '../src/modules/journal/journal-keys.js'
import { freePort } from './bench/service.js'

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)))
const PG_VERSION = '15'
const PG_BIN = `/usr/lib/postgresql/${PG_VERSION}/bin`
const WORKERS = 12
const PHASE_MS = 6000
const THERAPISTS = 3000
const VISIBILITY_TRIALS = 8
/** The promise: a change through one instance reaches every instance within this, plus the replica's lag. */
const COHERENCE_BOUND_MS = 1000
const GRACE_SECONDS = 2

const WORK = mkdtempSync(path.join(tmpdir(), 'therapath-fleet-'))
const say = (line: string) => console.log(`[fleet ${new Date().toISOString().slice(11, 19)}] ${line}`)

// ---------- clusters ----------

const clusters: string[] = []
const children = new Set<ChildProcess>()
let cleanedUp = false

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

async function createCluster(name: string, port: number): Promise<string> {
  clusters.push(name)
  run('pg_createcluster', [PG_VERSION, name, '-p', String(port), '--start-conf=manual', '--', '--auth=trust'])
  const conf = `/etc/postgresql/${PG_VERSION}/${name}`
  writeFileSync(
    `${conf}/conf.d/fleet.conf`,
    [
      "listen_addresses = '127.0.0.1'",
      'wal_level = replica',
      'max_wal_senders = 5',
      'hot_standby = on',
      // Queries on the replica are not cancelled by the primary's vacuum.
      'hot_standby_feedback = on',
      // A throw-away cluster: durability is not what is measured.
      'fsync = off',
      'shared_buffers = 64MB',
      'max_connections = 100',
      '',
    ].join('\n'),
  )
  appendFileSync(`${conf}/pg_hba.conf`, '\nhost replication all 127.0.0.1/32 trust\n')
  return `/var/lib/postgresql/${PG_VERSION}/${name}`
}

function ctl(name: string, action: 'start' | 'stop', ...extra: string[]): void {
  run('pg_ctlcluster', ['--skip-systemctl-redirect', PG_VERSION, name, action, ...extra])
}

async function waitForPostgres(port: number): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    try {
      run(`${PG_BIN}/pg_isready`, ['-h', '127.0.0.1', '-p', String(port), '-q'])
      return
    } catch {
      await sleep(100)
    }
  }
  throw new Error(`Postgres on ${port} did not become ready`)
}

function cleanUp(): void {
  if (cleanedUp) return
  cleanedUp = true
  for (const child of children) if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL')
  for (const name of clusters.reverse()) {
    try {
      run('pg_dropcluster', ['--stop', PG_VERSION, name])
    } catch (error) {
      console.error(`could not drop cluster ${name}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  rmSync(WORK, { recursive: true, force: true })
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanUp()
    process.exit(130)
  })
}

// ---------- instances ----------

interface Instance {
  name: string
  port: number
  base: string
  child: ChildProcess
  exited: Promise<number | null>
  /** In the load balancer's rotation: its last /readyz was 200. */
  ready: boolean
}

function spawnInstance(name: string, port: number, env: Record<string, string>): Instance {
  const log = path.join(WORK, `${name}.log`)
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  child.stdout?.on('data', (chunk: Buffer) => appendFileSync(log, chunk))
  child.stderr?.on('data', (chunk: Buffer) => appendFileSync(log, chunk))
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child)
      resolve(code)
    }),
  )
  return { name, port, base: `http://127.0.0.1:${port}`, child, exited, ready: false }
}

async function waitReady(instance: Instance, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (instance.child.exitCode !== null) throw new Error(`${instance.name} exited with ${instance.child.exitCode} (log: ${WORK}/${instance.name}.log)`)
    try {
      const res = await fetch(`${instance.base}/readyz`, { signal: AbortSignal.timeout(1000) })
      if (res.status === 200) {
        instance.ready = true
        return
      }
      await res.arrayBuffer()
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
  throw new Error(`${instance.name} did not become ready`)
}

// ---------- the load balancer and the load ----------

type Op = 'search' | 'profile' | 'journal' | 'assessment'

interface Stats {
  requests: number
  failed: number
  serverErrors: number
  byOp: Record<Op, number>
  byInstance: Record<string, number>
  latencies: number[]
  failures: string[]
}

const newStats = (): Stats => ({ requests: 0, failed: 0, serverErrors: 0, byOp: { search: 0, profile: 0, journal: 0, assessment: 0 }, byInstance: {}, latencies: [], failures: [] })

class Balancer {
  private next = 0
  private polling = true
  readonly done: Promise<void>

  constructor(readonly instances: Instance[]) {
    this.done = this.poll()
  }

  /** The next ready instance in turn, restricted to `only` when given. */
  pick(only?: Instance[]): Instance | undefined {
    const pool = (only ?? this.instances).filter((instance) => instance.ready)
    if (pool.length === 0) return undefined
    this.next = (this.next + 1) % pool.length
    return pool[this.next]
  }

  replace(old: Instance, fresh: Instance): void {
    const i = this.instances.indexOf(old)
    if (i >= 0) this.instances[i] = fresh
  }

  stop(): Promise<void> {
    this.polling = false
    return this.done
  }

  /** Health checks every 100 ms, as a load balancer's readiness probe (threshold 1). */
  private async poll(): Promise<void> {
    while (this.polling) {
      await Promise.all(
        this.instances.map(async (instance) => {
          try {
            const res = await fetch(`${instance.base}/readyz`, { signal: AbortSignal.timeout(500) })
            await res.arrayBuffer()
            instance.ready = res.status === 200
          } catch {
            instance.ready = false
          }
        }),
      )
      await sleep(100)
    }
  }
}

interface Workload {
  curatorToken: string
  users: string[]
  therapistIds: string[]
}

const SEARCHES = [
  '/v1/therapists?state=CA&limit=10',
  '/v1/therapists?modality=cbt&facets=modality,specialty&limit=10',
  '/v1/therapists?q=anxiety%20couples&limit=10',
  '/v1/therapists?specialty=relationship-issues&format=telehealth&sort=name&limit=10',
  '/v1/therapists?near=37.77,-122.42&radiusKm=50&sort=distance&limit=10',
  '/v1/therapists?maxFee=150&slidingScale=true&facets=licenseType,format&limit=10',
]

const READINESS_ANSWERS = [
  { itemId: 'stuck-in-arguments', value: 1 },
  { itemId: 'doubt-worth', value: 0 },
  { itemId: 'partner-dismisses', value: 1 },
  { itemId: 'understand-triggers', value: 1 },
  { itemId: 'carrying-weight-alone', value: 1 },
  { itemId: 'deserve-support', value: 0 },
]

function request(op: Op, workload: Workload, worker: number, i: number): { path: string; init: RequestInit; expect: number } {
  const user = workload.users[worker % workload.users.length] as string
  switch (op) {
    case 'search':
      return { path: SEARCHES[i % SEARCHES.length] as string, init: { headers: { authorization: `Bearer ${workload.curatorToken}` } }, expect: 200 }
    case 'profile':
      return {
        path: `/v1/therapists/${workload.therapistIds[(worker * 7919 + i) % workload.therapistIds.length]}`,
        init: { headers: { authorization: `Bearer ${workload.curatorToken}` } },
        expect: 200,
      }
    case 'journal':
      return {
        path: '/v1/journal/entries',
        init: {
          method: 'POST',
          headers: { authorization: `Bearer ${user}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
          body: JSON.stringify({ body: `Talked it through calmly today (${i}).`, mood: 6 }),
        },
        expect: 201,
      }
    case 'assessment':
      return {
        path: '/v1/assessments',
        init: {
          method: 'POST',
          headers: { authorization: `Bearer ${user}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
          body: JSON.stringify({ instrumentId: 'therapy-readiness', answers: READINESS_ANSWERS }),
        },
        expect: 201,
      }
  }
}

/** 50% searches, 25% profiles, 15% journal entries, 10% assessments. */
const opFor = (i: number): Op => (['search', 'search', 'profile', 'search', 'journal', 'search', 'profile', 'assessment', 'search', 'journal', 'profile', 'search', 'assessment', 'journal', 'search', 'profile', 'search', 'search', 'profile', 'search'] as Op[])[i % 20] as Op

/** Runs the mixed load until `until` resolves, sending only to `only` when given. */
async function load(balancer: Balancer, workload: Workload, until: Promise<unknown>, only?: Instance[]): Promise<Stats & { ms: number }> {
  const stats = newStats()
  let stopped = false
  void until.then(() => (stopped = true))
  const started = performance.now()
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, worker) => {
      for (let i = worker; !stopped; i += 1) {
        const instance = balancer.pick(only)
        if (!instance) {
          await sleep(5)
          continue
        }
        const op = opFor(i)
        const { path: url, init, expect } = request(op, workload, worker, i)
        const t0 = performance.now()
        stats.requests += 1
        stats.byOp[op] += 1
        stats.byInstance[instance.name] = (stats.byInstance[instance.name] ?? 0) + 1
        try {
          const res = await fetch(`${instance.base}${url}`, { ...init, signal: AbortSignal.timeout(10_000) })
          const body = await res.text()
          stats.latencies.push(performance.now() - t0)
          if (res.status !== expect) {
            stats.failed += 1
            if (res.status >= 500) stats.serverErrors += 1
            if (stats.failures.length < 10) stats.failures.push(`${instance.name} ${op} ${res.status} ${body.slice(0, 200)}`)
          }
        } catch (error) {
          stats.failed += 1
          const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error instanceof Error ? error.message : String(error))
          if (stats.failures.length < 10) stats.failures.push(`${instance.name} ${op} ${cause}`)
        }
      }
    }),
  )
  return { ...stats, ms: performance.now() - started }
}

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

// ---------- metrics ----------

async function readsByTarget(instances: Instance[]): Promise<Record<string, number>> {
  const totals: Record<string, number> = {}
  for (const instance of instances) {
    try {
      const text = await (await fetch(`${instance.base}/metrics`)).text()
      for (const match of text.matchAll(/^therapath_db_reads_total\{target="([^"]+)",outcome="([^"]+)"\} (\d+)/gm)) {
        const key = `${match[1]}:${match[2]}`
        totals[key] = (totals[key] ?? 0) + Number(match[3])
      }
    } catch {
      // an instance between restarts
    }
  }
  return totals
}

const delta = (after: Record<string, number>, before: Record<string, number>, key: string) => (after[key] ?? 0) - (before[key] ?? 0)

// ---------- main ----------

interface Row {
  check: string
  requests: number
  failed: number
  fiveXx: number
  rps: number
  p50: number
  p99: number
  note: string
}

const rowOf = (check: string, stats: Stats & { ms: number }, note: string): Row => ({
  check,
  requests: stats.requests,
  failed: stats.failed,
  fiveXx: stats.serverErrors,
  rps: Math.round((stats.requests / stats.ms) * 1000),
  p50: Math.round(percentile(stats.latencies, 50)),
  p99: Math.round(percentile(stats.latencies, 99)),
  note,
})

function printTable(rows: Row[]): void {
  const header = ['check', 'requests', 'failed', '5xx', 'req/s', 'p50 ms', 'p99 ms', 'result']
  const cells = rows.map((row) => [row.check, String(row.requests), String(row.failed), String(row.fiveXx), String(row.rps), String(row.p50), String(row.p99), row.note])
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((line) => (line[i] as string).length)))
  const line = (values: string[]) => `| ${values.map((value, i) => (i === 0 || i === values.length - 1 ? value.padEnd(widths[i] as number) : value.padStart(widths[i] as number))).join(' | ')} |`
  console.log(line(header))
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`)
  for (const values of cells) console.log(line(values))
}

async function main(): Promise<number> {
  if (!existsSync(path.join(ROOT, 'dist/server.js'))) throw new Error('dist/server.js is missing: run `npm run build` first (npm run fleet does)')
  const tag = `fleet_${process.pid}`
  const [primaryPort, replicaPort, portA, portB] = [await freePort(), await freePort(), await freePort(), await freePort()] as [number, number, number, number]
  if ([primaryPort, replicaPort].includes(5432)) throw new Error('refusing port 5432')

  say(`primary cluster ${tag}_primary on ${primaryPort}`)
  await createCluster(`${tag}_primary`, primaryPort)
  ctl(`${tag}_primary`, 'start')
  await waitForPostgres(primaryPort)

  say(`replica cluster ${tag}_replica on ${replicaPort} (pg_basebackup -R)`)
  const replicaData = await createCluster(`${tag}_replica`, replicaPort)
  // Emptied, not removed: the directory belongs to postgres, its parent may not.
  run('find', [replicaData, '-mindepth', '1', '-delete'])
  run('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_basebackup`, '-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', replicaData, '-R', '-X', 'stream', '-c', 'fast'])
  ctl(`${tag}_replica`, 'start')
  await waitForPostgres(replicaPort)

  const primaryUrl = `postgresql://postgres@127.0.0.1:${primaryPort}/postgres`
  const replicaUrl = `postgresql://postgres@127.0.0.1:${replicaPort}/postgres`
  const env = {
    DATABASE_URL: primaryUrl,
    DATABASE_READ_URLS: replicaUrl,
    DATABASE_MAX_REPLICA_LAG_MS: '1000',
    DATABASE_REPLICA_CHECK_MS: '200',
    AUTH_SIGNING_KEYS: JSON.stringify(await generateSigningJwk()),
    JOURNAL_ENCRYPTION_KEYS: generateJournalKey(),
    SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS),
    // Warnings and up: a log line per request would measure the log pipe.
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_AUTH_MAX: '1000000',
    RATE_LIMIT_ACCOUNT_MAX: '1000000',
  }

  say(`seeding ${THERAPISTS} therapists`)
  execFileSync(process.execPath, ['dist/cli/seed.js', '--therapists', String(THERAPISTS)], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATABASE_URL: primaryUrl, LOG_LEVEL: 'error' }, stdio: 'ignore' })
  const curator = JSON.parse(
    execFileSync(process.execPath, ['dist/cli/create-client.js', '--name', 'fleet curator', '--scopes', 'directory:read,directory:write'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: primaryUrl, LOG_LEVEL: 'error' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  ) as { clientId: string; clientSecret: string }

  say('starting instances A and B')
  let a = spawnInstance('A', portA, env)
  let b = spawnInstance('B', portB, env)
  await Promise.all([waitReady(a), waitReady(b)])

  const tokenRes = await fetch(`${a.base}/v1/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: curator.clientId, client_secret: curator.clientSecret }),
  })
  const curatorToken = ((await tokenRes.json()) as { access_token: string }).access_token
  const users: string[] = []
  for (let i = 0; i < WORKERS; i += 1) {
    const res = await fetch(`${a.base}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `fleet-${i}-${randomUUID()}@example.com`, password: 'a long and personal passphrase' }),
    })
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`)
    users.push(((await res.json()) as { accessToken: string }).accessToken)
  }
  const ids = new Set<string>()
  for (const url of SEARCHES) {
    const res = await fetch(`${a.base}${url.replace('limit=10', 'limit=100')}`, { headers: { authorization: `Bearer ${curatorToken}` } })
    for (const hit of ((await res.json()) as { data: { id: string }[] }).data) ids.add(hit.id)
  }
  const workload: Workload = { curatorToken, users, therapistIds: [...ids] }
  const balancer = new Balancer([a, b])
  const rows: Row[] = []
  let failedChecks = 0

  // 1. Throughput, one instance and two.
  say('load on A alone')
  const one = await load(balancer, workload, sleep(PHASE_MS), [a])
  rows.push(rowOf('one instance (A)', one, one.failed === 0 ? 'ok' : 'FAILED'))
  say('load on A and B')
  const readsBefore = await readsByTarget([a, b])
  const two = await load(balancer, workload, sleep(PHASE_MS))
  const readsAfter = await readsByTarget([a, b])
  const onReplica = delta(readsAfter, readsBefore, 'replica-1:ok')
  const onPrimary = delta(readsAfter, readsBefore, 'primary:ok')
  const spread = onReplica > 0
  if (!spread) failedChecks += 1
  rows.push(
    rowOf('two instances (A+B)', two, `${two.failed === 0 ? 'ok' : 'FAILED'}; x${(two.requests / two.ms / (one.requests / one.ms)).toFixed(2)} of one; directory reads replica ${onReplica} / primary ${onPrimary}${spread ? '' : ' NOT SPREAD'}`),
  )

  // 2. Coherence: a therapist added through A, seen through B.
  say('curation through A, reads through B')
  const replica = new pg.Client({ connectionString: replicaUrl })
  await replica.connect()
  const visibility: { search: number; profile: number; lag: number }[] = []
  let stale = 0
  const curatorHeaders = { authorization: `Bearer ${curatorToken}`, 'content-type': 'application/json' }
  for (let trial = 0; trial < VISIBILITY_TRIALS; trial += 1) {
    const marker = `fleet-visibility-${randomUUID()}`
    const created = await fetch(`${a.base}/v1/therapists`, {
      method: 'POST',
      headers: curatorHeaders,
      body: JSON.stringify({ name: `Visibility Trial ${trial}`, license: { type: 'lcsw', state: 'CA' }, formats: ['telehealth'], acceptingNewClients: true, insurance: [marker] }),
    })
    const written = performance.now()
    if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`)
    const { id } = (await created.json()) as { id: string }
    const poll = async (probe: () => Promise<boolean>) => {
      while (performance.now() - written < 10_000) {
        if (await probe()) return performance.now() - written
        await sleep(5)
      }
      return Number.POSITIVE_INFINITY
    }
    const [lag, search, profile] = await Promise.all([
      poll(async () => (await replica.query('SELECT 1 FROM therapist WHERE id = $1', [id])).rowCount === 1),
      poll(async () => {
        const res = await fetch(`${b.base}/v1/therapists?insurance=${marker}&facets=none`, { headers: curatorHeaders })
        return ((await res.json()) as { data: unknown[] }).data.length === 1
      }),
      poll(async () => {
        const res = await fetch(`${b.base}/v1/therapists/${id}`, { headers: curatorHeaders })
        await res.arrayBuffer()
        return res.status === 200
      }),
    ])
    visibility.push({ search, profile, lag })
    if (search > COHERENCE_BOUND_MS + lag || profile > COHERENCE_BOUND_MS + lag) stale += 1
  }
  await replica.end()
  const worst = (key: 'search' | 'profile' | 'lag') => Math.round(Math.max(...visibility.map((v) => v[key])))
  const median = (key: 'search' | 'profile' | 'lag') => Math.round(percentile(visibility.map((v) => v[key]), 50))
  if (stale > 0) failedChecks += 1
  rows.push({
    check: `curation via A seen via B (${VISIBILITY_TRIALS} trials)`,
    requests: VISIBILITY_TRIALS,
    failed: stale,
    fiveXx: 0,
    rps: 0,
    p50: median('search'),
    p99: worst('search'),
    note: `${stale === 0 ? 'ok' : 'STALE'}: search ms median ${median('search')} worst ${worst('search')}; profile median ${median('profile')} worst ${worst('profile')}; replica lag median ${median('lag')} worst ${worst('lag')} (bound ${COHERENCE_BOUND_MS} + lag)`,
  })

  // 3. The replica stopped mid-load, then started again.
  say('replica stopped mid-load')
  const beforeOutage = await readsByTarget([a, b])
  let duringOutage: Record<string, number> = {}
  let afterReturn: Record<string, number> = {}
  const outage = load(
    balancer,
    workload,
    (async () => {
      await sleep(1500)
      ctl(`${tag}_replica`, 'stop', '-m', 'fast')
      await sleep(2500)
      duringOutage = await readsByTarget([a, b])
      ctl(`${tag}_replica`, 'start')
      await waitForPostgres(replicaPort)
      await sleep(2500)
      afterReturn = await readsByTarget([a, b])
      await sleep(500)
    })(),
  )
  const outageStats = await outage
  const fallbackReads = delta(duringOutage, beforeOutage, 'primary:ok')
  const replicaAgain = delta(afterReturn, duringOutage, 'replica-1:ok')
  if (!(replicaAgain > 0 && fallbackReads > 0)) failedChecks += 1
  rows.push(
    rowOf(
      'replica stopped and started mid-load',
      outageStats,
      `${outageStats.failed === 0 ? 'ok' : 'FAILED'}; reads on primary meanwhile ${fallbackReads}, replica reads after its return ${replicaAgain}${replicaAgain > 0 ? '' : ' (NOT BACK)'}`,
    ),
  )

  // 4. Rolling restart of both instances under load.
  say('rolling restart of A, then B, under load')
  const restarts: string[] = []
  const rolling = load(
    balancer,
    workload,
    (async () => {
      await sleep(1000)
      for (const name of ['A', 'B'] as const) {
        const old = name === 'A' ? a : b
        const stopped = performance.now()
        old.child.kill('SIGTERM')
        const code = await old.exited
        const fresh = spawnInstance(name, old.port, env)
        balancer.replace(old, fresh)
        if (name === 'A') a = fresh
        else b = fresh
        await waitReady(fresh)
        restarts.push(`${name} exit ${code}, back in ${Math.round(performance.now() - stopped)} ms`)
        await sleep(1000)
      }
    })(),
  )
  const rollingStats = await rolling
  rows.push(rowOf('rolling restart (A, then B)', rollingStats, `${rollingStats.failed === 0 ? 'ok' : 'FAILED'}; ${restarts.join('; ')}`))

  await balancer.stop()
  a.child.kill('SIGTERM')
  b.child.kill('SIGTERM')
  await Promise.all([a.exited, b.exited])

  console.log('')
  printTable(rows)
  const failures = [one, two, outageStats, rollingStats].flatMap((stats) => stats.failures)
  const failedRequests = [one, two, outageStats, rollingStats].reduce((sum, stats) => sum + stats.failed, 0)
  if (failures.length > 0) console.log(`\nfirst failures:\n  ${failures.slice(0, 10).join('\n  ')}`)
  console.log(`\n${WORKERS} concurrent clients; ${THERAPISTS} therapists; grace ${GRACE_SECONDS} s; replica lag bound 1000 ms, checked every 200 ms. This machine runs both instances, both clusters and the load generator.`)
  if (failedRequests > 0 || stale > 0 || failedChecks > 0) {
    console.log(`FLEET CHECK FAILED: ${failedRequests} failed requests, ${stale} stale reads past the bound, ${failedChecks} failed checks`)
    return 1
  }
  console.log('fleet check passed')
  return 0
}

let code = 1
try {
  code = await main()
} catch (error) {
  console.error(error)
  code = 1
} finally {
  if (code !== 0) {
    // keep the logs for a look: copy them out of the work directory before it goes
    const kept = mkdtempSync(path.join(tmpdir(), 'therapath-fleet-logs-'))
    try {
      execFileSync('cp', ['-r', `${WORK}/.`, kept])
      console.error(`instance logs: ${kept}`)
    } catch {
      // nothing to keep
    }
  }
  cleanUp()
}
process.exit(code)
