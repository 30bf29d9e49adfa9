import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Config } from './config.js'
import { type Database, MIGRATIONS_DIR } from './db/database.js'
import { type Migration, readMigrations } from './db/migrations.js'
import { FEATURE_LOG_REDACTIONS } from './features.js'
import { createAccountDataRegistry } from './lib/account-data.js'
import { installValidationMessages } from './lib/validation-messages.js'
import { createLogger, RequestLogController } from './logger.js'
import { accountRoutes } from './modules/account/account-routes.js'
import { createScoreSeries } from './modules/assessments/score-series.js'
import { assessmentsRoutes } from './modules/assessments/assessments-routes.js'
import type { InstrumentDefinition } from './modules/assessments/instrument-schema.js'
import type { RecommendationRule } from './modules/assessments/recommendation-rules.js'
import { authRoutes } from './modules/auth/auth-routes.js'
import { createAuthenticator } from './modules/auth/identity-service.js'
import { loadSigningKeys, type SigningKeys } from './modules/auth/keys.js'
import { oauthRoutes } from './modules/auth/oauth-routes.js'
import { type CacheClock, createTokenService } from './modules/auth/tokens.js'
import type { JournalKeyring } from './modules/journal/journal-crypto.js'
import { loadJournalKeys } from './modules/journal/journal-keys.js'
import { journalRoutes } from './modules/journal/journal-routes.js'
import { directoryRoutes } from './modules/directory/directory-routes.js'
import { changesRoutes } from './modules/sync/changes-routes.js'
import { withWebhooks } from './modules/sync/webhook-openapi.js'
import { webhooksRoutes } from './modules/sync/webhook-routes.js'
import { operationsRoutes } from './modules/operations/operations-routes.js'
import { authGuardPlugin } from './plugins/auth-guard.js'
import { changeFeedPlugin } from './plugins/change-feed.js'
import { conditionalPlugin } from './plugins/conditional.js'
import { databasePlugin } from './plugins/database.js'
import { deprecationPlugin } from './plugins/deprecation.js'
import { clientErrorHandler, errorHandlerPlugin, frameworkErrorHandler } from './plugins/error-handler.js'
import { idempotencyPlugin } from './plugins/idempotency/idempotency-plugin.js'
import { metricsPlugin } from './plugins/metrics.js'
import { rateLimitPlugin } from './plugins/rate-limit.js'
import { readinessPlugin } from './plugins/readiness.js'
import { readReplicasPlugin } from './plugins/read-replicas.js'
import { reliabilityPlugin } from './plugins/reliability.js'
import { type RetentionClock, retentionPlugin } from './plugins/retention.js'
import { securityPlugin } from './plugins/security.js'
import { shutdownPlugin } from './plugins/shutdown.js'
import { swaggerPlugin } from './plugins/swagger.js'

export interface AppDependencies {
  /** An open, migrated database; the caller closes it after the app. */
  db: Database
  logger?: FastifyBaseLogger
  /** Token signing keys; loaded from the configuration (or DATA_DIR) when omitted. */
  keys?: SigningKeys
  /** Self-assessment content (data, not code); defaults to the built-in instruments and recommendation rules. */
  assessments?: { instruments?: readonly InstrumentDefinition[]; rules?: readonly RecommendationRule[] }
  /** Journal encryption keys; loaded from the configuration (or DATA_DIR) when omitted. */
  journalKeys?: JournalKeyring
  /** The migrations this build ships (readiness compares the database with them); read from MIGRATIONS_DIR when omitted. */
  migrations?: Migration[]
  /** What the in-memory caches (verified tokens, app status) measure time with; tests move it. */
  cacheClock?: CacheClock
  /** What the retention sweep and webhook delivery take as now; tests sweep and retry at any instant. */
  clock?: RetentionClock
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
    loggerInstance: deps.logger ?? createLogger(config, { redactKeys: FEATURE_LOG_REDACTIONS }),
    requestIdHeader: false,
    logController: new RequestLogController(),
    genReqId: (request) => {
      const incoming = request.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Trust X-Forwarded-For from exactly this many proxies in front of us, no further.
    trustProxy: (_address: string, hop: number) => hop < config.TRUST_PROXY_HOPS,
    // While closing, a request already on its way over a busy keep-alive socket is answered (with
    // `Connection: close`) rather than refused: the shutdown sequence (src/lifecycle/shutdown.ts) has
    // failed readiness before, so the load balancer sends nothing new, and the database stays open
    // until the last request ends.
    return503OnClosing: false,
    // `/v1/me` and `/v1/me/` are the same resource.
    routerOptions: { ignoreTrailingSlash: true },
    // A request that takes longer than this from arrival gets 503 `deadline_exceeded` (the import sets its own).
    ...(config.REQUEST_DEADLINE_MS > 0 ? { handlerTimeout: config.REQUEST_DEADLINE_MS } : {}),
    // A client that has not sent its whole request by then gets 408 `request_timeout`; Node checks each second.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    http: { connectionsCheckingInterval: 1000, headersTimeout: Math.min(config.REQUEST_TIMEOUT_MS, 60_000) },
    frameworkErrors: (error, request, reply) => void frameworkErrorHandler(error, request, reply),
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>()

  installValidationMessages()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)

  const keys = deps.keys ?? (await loadSigningKeys(config))
  const journalKeys = deps.journalKeys ?? loadJournalKeys(config)
  const tokens = createTokenService({ keys, config, clock: deps.cacheClock })
  const accountData = createAccountDataRegistry()

  await app.register(errorHandlerPlugin)
  await app.register(reliabilityPlugin, { config })
  await app.register(securityPlugin, { config })
  await app.register(metricsPlugin)
  await app.register(databasePlugin, { db: deps.db })
  await app.register(readinessPlugin)
  await app.register(shutdownPlugin)
  await app.register(changeFeedPlugin)
  await app.register(readReplicasPlugin, { config })
  await app.register(retentionPlugin, { config, clock: deps.clock })
  // Before the routes and the OpenAPI plugin: these act on routes as they are added. The order is
  // the order their hooks run in: a request is counted (and perhaps refused) before the guard's
  // scope check and before it may claim an idempotency key; the guard identifies the caller first.
  await app.register(rateLimitPlugin, { config })
  await app.register(authGuardPlugin, { authenticate: createAuthenticator({ tokens, prisma: deps.db.prisma, clock: deps.cacheClock, changes: app.changes }) })
  await app.register(idempotencyPlugin, { leaseSeconds: config.IDEMPOTENCY_LEASE_SECONDS })
  await app.register(conditionalPlugin)
  await app.register(deprecationPlugin)
  await app.register(swaggerPlugin, { config, extend: withWebhooks })

  await app.register(operationsRoutes, { config, migrations: deps.migrations ?? readMigrations(MIGRATIONS_DIR) })
  await app.register(oauthRoutes, { tokens, keys })
  await app.register(authRoutes, { prefix: '/v1/auth', config, tokens })
  await app.register(assessmentsRoutes, { config, registry: accountData, ...deps.assessments })
  await app.register(journalRoutes, {
    prefix: '/v1/journal',
    keyring: journalKeys,
    registry: accountData,
    resources: config.CRISIS_RESOURCES,
    // Insights draw the user's assessment scores beside their mood.
    scoreSeries: createScoreSeries({ prisma: deps.db.prisma }),
  })
  // After the features that add export sections: the export's schema lists them all.
  await app.register(accountRoutes, { prefix: '/v1/me', registry: accountData, config })
  await app.register(directoryRoutes, { config })
  await app.register(changesRoutes, { config, clock: deps.clock })
  await app.register(webhooksRoutes, { config, keyring: journalKeys, clock: deps.clock })

  return app
}
