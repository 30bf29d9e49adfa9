import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import type { Drain } from '../plugins/shutdown.js'

/**
 * The stop sequence of one instance, so that a rolling restart behind a load balancer fails no request:
 *
 * 1. fail GET /readyz at once and answer everything with `Connection: close` (src/plugins/shutdown.ts);
 * 2. keep serving for the grace period (SHUTDOWN_GRACE_SECONDS), long enough for the load balancer's
 *    readiness checks to take the instance out (interval x failure threshold);
 * 3. close: stop accepting connections and close idle keep-alive sockets (Node's `server.close()`); a
 *    request already on its way over a busy keep-alive socket is still answered, with `Connection: close`
 *    (Fastify, `return503OnClosing: false`), and in-flight requests finish;
 * 4. the caller then closes the database. The whole drain is bounded by the caller (close-with-grace's
 *    delay, SHUTDOWN_GRACE_SECONDS + SHUTDOWN_DRAIN_SECONDS), past which the process exits 1.
 *
 * With a grace period of 0 (the default: embedded and development setups have no load balancer) step 2
 * is skipped; requests arriving over keep-alive sockets while in-flight ones finish are still answered.
 */
export async function drainAndClose(
  app: { drain: Drain; close(): PromiseLike<unknown> },
  options: { graceMs: number; log: FastifyBaseLogger; wait?: (ms: number) => Promise<unknown> },
): Promise<void> {
  app.drain.begin()
  if (options.graceMs > 0) {
    options.log.info({ graceMs: options.graceMs }, 'shutting down: readiness fails now; still serving for the grace period')
    await (options.wait ?? sleep)(options.graceMs)
  }
  options.log.info('shutting down: closing the listener, draining in-flight requests')
  await app.close()
}
