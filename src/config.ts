import { z } from 'zod'

/**
 * Every setting the service reads, parsed once from the environment at start-up.
 * Nothing else in the code base reads `process.env`: the parsed, frozen `Config`
 * is passed into `buildApp`, so tests build their own without touching globals.
 */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const commaList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  )

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes')

export const EnvSchema = z.object({
  PORT: z.coerce
    .number({ error: 'must be a port number' })
    .int({ error: 'must be an integer' })
    .min(0)
    .max(65535, { error: 'must be at most 65535' })
    .default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Unset → embedded PGlite in DATA_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, { error: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  /** Folder of the embedded database and its generated keys; `memory` keeps everything in memory. */
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  /** Browser origins allowed to call the API (comma-separated, or `*`). Empty → no CORS headers. */
  CORS_ORIGINS: commaList.default([]),
  /** Shared store for rate limits across instances. Unset → per-process memory. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, { error: 'must be a redis:// or rediss:// URL' })
    .optional(),
  /** Trust X-Forwarded-* from this many proxy hops (0 = none); needed for per-IP limits behind a load balancer. */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** Largest accepted JSON request body. Routes that take bulk uploads set their own limit. */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(100 * 1024 * 1024).default(1024 * 1024),
  /** `auto` loads demo data on the first start of an empty embedded database; `off` never does. */
  DEMO_DATA: z.enum(['auto', 'off'], { error: 'must be auto or off' }).default('auto'),
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  METRICS_TOKEN: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  /**
   * How long directory facet counts are reused for the same filters (seconds; 0 = never). Counting
   * reads every matching therapist, up to a second for a country-wide search at 100k; writes through
   * this instance clear the cache at once, other instances' writes show within this time.
   */
  FACET_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  /** Apply pending migrations at start (the default). Off: start only if the schema is current. */
  MIGRATE_ON_START: booleanFlag.default(true),
})

export type Config = Readonly<z.infer<typeof EnvSchema>>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Parses the environment into a frozen `Config`.
 * Empty values count as unset, so `FOO=` in a compose file falls back to the default.
 * @throws ConfigError with one line naming each bad variable.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key in EnvSchema.shape && value !== undefined && value !== ''),
  )
  const parsed = EnvSchema.safeParse(present)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment')
      return `${name}: ${issue.message}`
    })
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`)
  }
  return Object.freeze(parsed.data)
}

/** True when the service runs on the embedded database rather than a Postgres server. */
export const usesEmbeddedDatabase = (config: Config): boolean => config.DATABASE_URL === undefined
