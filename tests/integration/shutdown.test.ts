import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { drainAndClose } from '../../src/lifecycle/shutdown.js'
import { buildTestApp } from '../helpers/app.js'

/**
 * The stop sequence over real sockets (src/lifecycle/shutdown.ts): readiness fails first, the instance
 * serves on through the grace period telling keep-alive clients to go, and while it closes, a request
 * already sent over a busy keep-alive socket is answered, not reset. No timing: the grace period is a
 * promise the test resolves, and a slow request is held by one too.
 */

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

function get(agent: http.Agent, port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
    })
    request.on('error', reject)
  })
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => undefined as void
  const promise = new Promise<void>((done) => (resolve = done))
  return { promise, resolve }
}

/** The app under test until the test has closed it itself. */
let open: App | undefined
afterEach(async () => {
  await open?.close()
  open = undefined
})

async function stop(app: App, options: Parameters<typeof drainAndClose>[1]): Promise<void> {
  open = undefined
  await drainAndClose(app, options)
}

async function listening(setup?: (app: App) => void): Promise<{ app: App; port: number }> {
  const app = await buildTestApp({ DIRECTORY_INDEX: 'off' })
  open = app
  setup?.(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, port: (app.server.address() as AddressInfo).port }
}

describe('shutting down', () => {
  it('fails readiness at once and keeps serving through the grace period, telling keep-alive clients to go', async () => {
    const { app, port } = await listening()
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const before = await get(agent, port, '/readyz')
      expect(before.status).toBe(200)
      expect(before.headers.connection).toBe('keep-alive')

      const grace = deferred()
      let waitedFor = 0
      const stopping = stop(app, {
        graceMs: 5000,
        log: app.log,
        wait: (ms) => {
          waitedFor = ms
          return grace.promise
        },
      })

      const readiness = await get(agent, port, '/readyz')
      expect(readiness.status).toBe(503)
      expect(readiness.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(JSON.parse(readiness.body)).toMatchObject({ status: 503, code: 'shutting_down' })
      expect(readiness.headers.connection).toBe('close')

      // Still serving during the grace period, each answer closing its connection.
      const served = await get(agent, port, '/healthz')
      expect(served.status).toBe(200)
      expect(served.headers.connection).toBe('close')
      expect(waitedFor).toBe(5000)

      grace.resolve()
      await stopping
      await expect(get(agent, port, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    } finally {
      agent.destroy()
    }
  })

  it('closes idle keep-alive sockets at once and finishes in-flight requests, closing their sockets after the answer', async () => {
    const release = deferred()
    const arrived = deferred()
    const { app, port } = await listening((app) => {
      app.get('/test-slow', async () => {
        arrived.resolve()
        await release.promise
        return { slow: true }
      })
      // The slow request ends only once the listener is closed (preClose runs just before that).
      app.addHook('preClose', async () => {
        setImmediate(() => release.resolve())
      })
    })
    const connect = () => {
      const socket = net.connect(port, '127.0.0.1')
      const state = { received: '', error: undefined as Error | undefined }
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => (state.received += chunk))
      socket.on('error', (error) => (state.error = error))
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
      return { socket, state, closed }
    }
    const statuses = (text: string) => [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((match) => Number(match[1]))

    // An idle keep-alive socket: one request answered, nothing in flight.
    const idle = connect()
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n')
    while (statuses(idle.state.received).length === 0) await new Promise((resolve) => setImmediate(resolve))
    expect(idle.state.received).toMatch(/connection: keep-alive/i)

    // A busy one: the slow request is in flight when the close starts.
    const busy = connect()
    busy.socket.write('GET /test-slow HTTP/1.1\r\nHost: localhost\r\n\r\n')
    await arrived.promise
    // Without Connection: close on the late answer, its socket would hold the close for the keep-alive timeout (72 s).
    await stop(app, { graceMs: 0, log: app.log })
    await Promise.all([idle.closed, busy.closed])

    // The idle socket was closed by the server, cleanly: no request was lost on it.
    expect(idle.state.error).toBeUndefined()
    expect(statuses(idle.state.received)).toEqual([200])
    // The in-flight request was answered, and its socket closed after the answer.
    expect(busy.state.error).toBeUndefined()
    expect(statuses(busy.state.received)).toEqual([200])
    expect(busy.state.received).toContain('{"slow":true}')
    expect(busy.state.received).toMatch(/connection: close/i)
  })

  it('with no grace period, closes at once', async () => {
    const { app } = await listening()
    let waited = false
    await stop(app, {
      graceMs: 0,
      log: app.log,
      wait: async () => {
        waited = true
      },
    })
    expect(waited).toBe(false)
    expect(app.drain.draining).toBe(true)
  })
})
