import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Config } from './config.js'
import { type Database, MIGRATIONS_DIR } from './db/database.js'
import { readMigrations } from './db/migrations.js'
import { createLogger, RequestLogController } from './logger.js'
import { directoryRoutes } from './modules/directory/directory-routes.js'
import { operationsRoutes } from './modules/operations/operations-routes.js'
import { databasePlugin } from './plugins/database.js'
import { errorHandlerPlugin } from './plugins/error-handler.js'
import { metricsPlugin } from './plugins/metrics.js'
import { securityPlugin } from './plugins/security.js'
import { swaggerPlugin } from './plugins/swagger.js'

export interface AppDependencies {
  /** An open, migrated database; the caller closes it after the app. */
  db: Database
  logger?: FastifyBaseLogger
}

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>

/** Accept a caller's request id only if it is short and plain, so it is safe to log and echo. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * Builds the whole application without listening and without running a query, so tests use it
 * with `inject`/supertest and `npm run openapi` needs no database.
 */
export async function buildApp(config: Config, deps: AppDependencies): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger ?? createLogger(config),
    requestIdHeader: false,
    logController: new RequestLogController(),
    genReqId: (request) => {
      const incoming = request.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Trust X-Forwarded-For from exactly this many proxies in front of us, no further.
    trustProxy: (_address: string, hop: number) => hop < config.TRUST_PROXY_HOPS,
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>()

  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)

  await app.register(errorHandlerPlugin)
  await app.register(securityPlugin, { config })
  await app.register(metricsPlugin)
  await app.register(swaggerPlugin)
  await app.register(databasePlugin, { db: deps.db })

  const migrations = readMigrations(MIGRATIONS_DIR)
  await app.register(operationsRoutes, { config, migrations })
  await app.register(directoryRoutes, { config })

  return app
}
