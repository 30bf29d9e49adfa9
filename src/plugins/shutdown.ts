import fp from 'fastify-plugin'

/**
 * What an instance does between a stop signal and closing its listener (src/lifecycle/shutdown.ts runs
 * the sequence). While draining, GET /readyz answers 503 so a load balancer takes the instance out, and
 * every request that arrives is answered with `Connection: close`, so a keep-alive client is told, on the answer to its last
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
    // Requests that arrived after the stop signal. Those already in flight keep their connection as it was:
    // a request pipelined behind one of them is then still read and answered (Fastify adds the close).
    const arrivedDraining = new WeakSet<object>()
    app.addHook('onRequest', async (request) => {
      if (draining) arrivedDraining.add(request)
    })
    app.addHook('onSend', async (request, reply, payload) => {
      // HTTP/2 has no Connection header (and its GOAWAY does this job).
      if (arrivedDraining.has(request) && request.raw.httpVersionMajor === 1) void reply.header('connection', 'close')
      return payload
    })
  },
  { name: 'shutdown' },
)
