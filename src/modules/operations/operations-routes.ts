import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Config } from '../../config.js'
import type { Migration } from '../../db/migrations.js'
import { UnauthorizedError } from '../../lib/errors.js'
import { problemResponses } from '../../lib/problem.js'
import { safeEqual } from '../../lib/secure-compare.js'
import { HealthSchema, ReadinessSchema } from './operations-schemas.js'
import { createOperationsService } from './operations-service.js'

export const operationsRoutes: FastifyPluginAsyncZod<{ config: Config; migrations: Migration[] }> = async (app, opts) => {
  const operations = createOperationsService({ db: app.db, migrations: opts.migrations, parts: app.readinessParts, draining: () => app.drain.draining })

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getHealth',
        summary: 'Liveness: the process is up',
        description: 'Answers 200 while the process runs, without touching the database. For liveness probes.',
        response: { 200: HealthSchema, ...problemResponses() },
      },
    },
    async () => ({ status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()) }),
  )

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getReadiness',
        summary: 'Readiness: the database is reachable and migrated',
        description:
          'Answers 503 problem+json while the instance is shutting down (`shutting_down`: from the stop signal on, through the grace period), the database is unreachable, migrations are pending, or (for at most DIRECTORY_INDEX_READY_WAIT_SECONDS after start) the directory index is being built. For readiness probes and load balancers.',
        response: { 200: ReadinessSchema, ...problemResponses(503) },
      },
    },
    async () => operations.readiness(),
  )

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        description:
          'Request counts and latency histograms by route and status, and process metrics, in the Prometheus text format. ' +
          'Requires `Authorization: Bearer <METRICS_TOKEN>` when the operator set one.',
        response: {
          200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
          ...problemResponses(401),
        },
      },
    },
    async (request, reply) => {
      const token = opts.config.METRICS_TOKEN
      if (token !== undefined && !safeEqual(request.headers.authorization ?? '', `Bearer ${token}`)) {
        throw new UnauthorizedError('This endpoint requires the metrics token.')
      }
      const body = await app.metrics.metrics()
      return reply.type(app.metrics.contentType).send(body)
    },
  )
}
