import fp from 'fastify-plugin'

/**
 * What an instance does between a stop signal and closing its listener (src/lifecycle/shutdown.ts runs
 * the sequence). While draining, GET /readyz answers 503 so a load balancer takes the instance out, and
 * every response says `Connection: close`, so a keep-alive client is told, on the answer to its last
 * request, to open its next connection elsewhere instead of finding its idle socket closed under it
 * (that race is what a plain close turns into ECONNRESET).
 */
export interface Drain {
  /** True from the stop signal on. */
  readonly draining: boolean
  begin(): void
}

declare module 'fastify' {
  interface FastifyInstance {
    drain: Drain
  }
}

export const shutdownPlugin = fp(
  async (app) => {
    let draining = false
    app.decorate('drain', {
      get draining() {
        return draining
      },
      begin() {
        draining = true
      },
    })
    app.addHook('onSend', async (request, reply, payload) => {
      // Every answer sent from the stop signal on, also to requests that were in flight: after the listener
      // closes, Node closes only the sockets idle at that moment, and a keep-alive answer sent later would
      // keep its socket (and the close) waiting for the keep-alive timeout. HTTP/2 has no Connection header.
      if (draining && request.raw.httpVersionMajor === 1) void reply.header('connection', 'close')
      return payload
    })
  },
  { name: 'shutdown' },
)
