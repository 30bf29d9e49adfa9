import type { FastifyInstance } from 'fastify'

/**
 * Runs `task` every `intervalMs` while the app is open (the first run an interval after start), never two
 * at once, and waits for a run in progress on close. A failure is logged as `failure` and the next round
 * retries. The timer does not keep the process alive.
 */
export function repeatWhileOpen(app: FastifyInstance, intervalMs: number, task: () => Promise<void>, failure: string): void {
  let running: Promise<void> | undefined
  const timer = setInterval(() => {
    running ??= task()
      .catch((error: unknown) => app.log.warn({ err: error }, failure))
      .finally(() => {
        running = undefined
      })
  }, intervalMs)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await running
  })
}
