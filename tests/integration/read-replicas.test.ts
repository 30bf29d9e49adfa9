import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, buildApp } from '../../src/app.js'
import { registerUser } from '../helpers/auth.js'
import { onPostgres, sharedDatabase, testConfig, testDatabaseUrl } from '../helpers/database.js'
import { writeEntry } from '../helpers/journal.js'

/**
 * Directory reads on a read replica (DATABASE_READ_URLS), through the HTTP layer on Postgres. The
 * "replica" is the test database behind a TCP proxy the test can cut, so that the replica can go away
 * mid-run as a stopped server does (the fleet check, `npm run fleet`, does it with real streaming
 * replication). Routing is read back from /metrics and /readyz; no timing is asserted.
 */

/** A TCP proxy to Postgres that can be stopped (connections reset, new ones refused) and started again on its port. */
class CuttableProxy {
  private server: net.Server | null = null
  private readonly sockets = new Set<net.Socket>()
  port = 0

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host)
      for (const socket of [client, upstream]) {
        this.sockets.add(socket)
        socket.on('close', () => this.sockets.delete(socket))
        socket.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.address() as AddressInfo).port
    this.server = server
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = null
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  }
}

interface ReplicaReport {
  name: string
  state: string
  lagMs: number | null
}

async function replicas(app: App): Promise<ReplicaReport[]> {
  return (await app.inject({ method: 'GET', url: '/readyz' })).json<{ replicas?: ReplicaReport[] }>().replicas ?? []
}

async function until(app: App, state: string): Promise<void> {
  while ((await replicas(app))[0]?.state !== state) await new Promise((resolve) => setTimeout(resolve, 20))
}

async function reads(app: App): Promise<Record<string, number>> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  return Object.fromEntries(
    [...text.matchAll(/^therapath_db_reads_total\{target="([^"]+)",outcome="([^"]+)"\} (\d+)/gm)].map((match) => [`${match[1]}:${match[2]}`, Number(match[3])]),
  )
}

describe.skipIf(!onPostgres())('read replicas', () => {
  let app: App
  let proxy: CuttableProxy

  beforeAll(async () => {
    const primary = new URL(testDatabaseUrl())
    proxy = new CuttableProxy({ host: primary.hostname, port: Number(primary.port || 5432) })
    await proxy.start()
    const replica = new URL(primary)
    replica.host = `127.0.0.1:${proxy.port}`
    app = await buildApp(testConfig({ DATABASE_READ_URLS: replica.toString(), DATABASE_REPLICA_CHECK_MS: '100', DIRECTORY_INDEX: 'off', FACET_CACHE_SECONDS: '0' }), {
      db: await sharedDatabase(),
    })
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    await proxy.stop()
  })

  it('sends directory reads to a healthy replica, falls back to the primary without an error while it is gone, and returns to it', async () => {
    const user = await registerUser(app)
    await until(app, 'healthy')
    expect((await replicas(app))[0]).toMatchObject({ name: 'replica-1', state: 'healthy', lagMs: 0 })

    const search = async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/therapists?state=CA&facets=modality&limit=5', headers: user.headers })
      expect(res.statusCode, res.body).toBe(200)
    }
    const before = await reads(app)
    for (let i = 0; i < 3; i += 1) await search()
    const onReplica = await reads(app)
    expect((onReplica['replica-1:ok'] ?? 0) - (before['replica-1:ok'] ?? 0)).toBeGreaterThanOrEqual(6)
    expect(onReplica['primary:ok'] ?? 0).toBe(before['primary:ok'] ?? 0)

    // User data never goes to a replica: a journal entry written and read back counts no directory read.
    await writeEntry(app, user)
    expect((await app.inject({ method: 'GET', url: '/v1/journal/entries', headers: user.headers })).statusCode).toBe(200)
    expect(await reads(app)).toEqual(onReplica)

    await proxy.stop()
    for (let i = 0; i < 3; i += 1) await search()
    const gone = await reads(app)
    // Whether a read found it gone (and ran again on the primary) or a check did first, nothing failed.
    expect(gone['replica-1:error'] ?? 0).toBe(0)
    expect((gone['primary:ok'] ?? 0) - (onReplica['primary:ok'] ?? 0)).toBeGreaterThanOrEqual(6)
    expect((await replicas(app))[0]?.state).toBe('down')

    await proxy.start()
    await until(app, 'healthy')
    const back = await reads(app)
    await search()
    expect((await reads(app))['replica-1:ok'] ?? 0).toBeGreaterThan(back['replica-1:ok'] ?? 0)
  })
})
