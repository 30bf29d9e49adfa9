import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type App, buildApp } from '../../src/app.js'
import { sharedDatabase, testConfig } from './database.js'

export interface Received {
  headers: IncomingHttpHeaders
  body: string
  json: { type: string; timestamp: string; data: { id?: string; therapistId?: string; changedFields?: string[] | null; position?: string } }
}

export interface TestReceiver {
  url: string
  received: Received[]
  /** The status to answer the n-th request with (1-based); 200 by default. */
  answer: (n: number, request: Received) => number
  close(): Promise<void>
}

/** A local webhook receiver on 127.0.0.1 that records every request and answers as told. */
export async function startReceiver(): Promise<TestReceiver> {
  const receiver: TestReceiver = {
    url: '',
    received: [],
    answer: () => 200,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const entry: Received = { headers: request.headers, body, json: JSON.parse(body) as Received['json'] }
      receiver.received.push(entry)
      response.writeHead(receiver.answer(receiver.received.length, entry)).end()
    })
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  receiver.close = async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return receiver
}

/** A clock tests move by hand. */
export function testClock(start = Date.now()) {
  let now = start
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms
    },
  }
}

/** The app with private webhook URLs allowed (the receiver is on 127.0.0.1), no background delivery, and the given clock. */
export async function webhookApp(clock: { now(): Date }, overrides: Record<string, string> = {}): Promise<App> {
  return buildApp(testConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_DELIVERY_INTERVAL_MS: '0', ...overrides }), { db: await sharedDatabase(), clock })
}
