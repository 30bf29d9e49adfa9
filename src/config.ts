import { z } from 'zod'
import { CrisisResourcesSchema, DEFAULT_CRISIS_RESOURCES } from './lib/crisis-resources.js'
import { ALL_SCOPES, type Scope } from './lib/scopes.js'

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

const jsonValue = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be valid JSON' })
    return z.NEVER
  }
})

const isLoopback = (url: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)

/**
 * A host that names a loopback, private, link-local (cloud metadata: 169.254.169.254), unique-local or
 * otherwise non-public address, written as an IP literal or as `localhost`. Host names are not resolved.
 */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) return true
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host)
  if (v4) {
    const [a = 0, b = 0] = v4.slice(1).map(Number)
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224
  }
  if (host.includes(':')) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host)
    if (mapped?.[1]) return isPrivateHost(mapped[1])
    return host === '::' || host === '::1' || /^f[cd]/.test(host) || /^fe[89ab]/.test(host) || /^::ffff:/.test(host)
  }
  return false
}

/** A trusted identity provider. Its JWKS must be https, except on loopback (tests, local IdPs). */
export const TrustedIssuerSchema = z.object({
  issuer: z.string().min(1),
  /** How users see this provider's app in their access log ("Acme Wellbeing read your journal entry …"); defaults to the issuer's host. */
  name: z.string().trim().min(1).max(100).optional(),
  jwksUrl: z.url().refine((value) => {
    const url = new URL(value)
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url))
  }, 'jwksUrl must be https (http only on loopback)'),
  /** Defaults to AUTH_AUDIENCE. */
  audience: z.string().min(1).optional(),
  /** Scopes its users get; defaults to every end-user scope. */
  scopes: z.array(z.enum(ALL_SCOPES as [Scope, ...Scope[]])).optional(),
})
export type TrustedIssuer = z.infer<typeof TrustedIssuerSchema>

export const EnvSchema = z.object({
  PORT: z.coerce
    .number({ error: 'must be a port number' })
    .int({ error: 'must be an integer' })
    .min(0)
    .max(65535, { error: 'must be at most 65535' })
    .default(3000),
  /** Unset: 127.0.0.1 on the embedded database (a demo on a laptop is not exposed), 0.0.0.0 with DATABASE_URL. Containers set 0.0.0.0. */
  HOST: z.string().min(1).optional(),
  /** Unset → embedded PGlite in DATA_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, { error: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  /**
   * Postgres streaming replicas for directory reads (comma-separated URLs; needs DATABASE_URL). Each request's
   * directory reads go to a healthy replica in turn, or to the primary; user data and auth stay on the primary.
   */
  DATABASE_READ_URLS: commaList
    .pipe(z.array(z.string().regex(/^postgres(ql)?:\/\/.+/, { error: 'each must be a postgres:// or postgresql:// URL' })))
    .default([]),
  /** A replica further behind the primary than this (ms) takes no reads until it catches up. */
  DATABASE_MAX_REPLICA_LAG_MS: z.coerce.number().int().min(0).max(3_600_000).default(2000),
  /** How often each replica's health and lag are checked (ms); also the lag's resolution. */
  DATABASE_REPLICA_CHECK_MS: z.coerce.number().int().min(100).max(60_000).default(500),
  /** Connections in each replica's pool, per instance. */
  DATABASE_READ_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  /** Folder of the embedded database and its generated keys; `memory` keeps everything in memory. */
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  /** `json` (default): one JSON object per line, for log shippers. `pretty`: one readable line per entry, for a terminal. */
  LOG_FORMAT: z.enum(['json', 'pretty'], { error: 'must be json or pretty' }).default('json'),
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
   * The directory index: `memory` keeps every therapist's searchable terms in this process (about
   * 300 bytes a therapist) and answers searches and facet counts from it; `off` answers them with
   * SQL alone (slower at scale: facet counts read every match).
   */
  DIRECTORY_INDEX: z.enum(['memory', 'off'], { error: 'must be memory or off' }).default('memory'),
  /** The index is not kept past this size (megabytes); searches then use SQL alone. */
  DIRECTORY_INDEX_MAX_MB: z.coerce.number().int().min(16).max(65_536).default(4096),
  /**
   * With the index: what hits show of each therapist (card, offices) is cached up to this size (megabytes;
   * 0 = none) for pages without a text query, kept coherent by the index's change feed.
   */
  DIRECTORY_CARD_CACHE_MB: z.coerce.number().int().min(0).max(16_384).default(64),
  /** /readyz waits this long after start for the index to be built, then answers ready without it (SQL alone). */
  DIRECTORY_INDEX_READY_WAIT_SECONDS: z.coerce.number().int().min(0).max(600).default(25),
  /**
   * Without the index (off, or while it is built): how long facet counts are reused for the same filters
   * (seconds; 0 = never). Counting in SQL reads every matching therapist; writes through this instance
   * clear the cache at once, other instances' writes show within this time.
   */
  FACET_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  /**
   * On SIGTERM/SIGINT: GET /readyz fails at once and the instance keeps serving this long (every answer
   * with `Connection: close`) so a load balancer takes it out before it stops listening. Behind a load
   * balancer set it above the readiness check's interval x failure threshold; 0 (no load balancer) closes at once.
   */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(600).default(0),
  /** After the grace period: how long in-flight requests may take before the process exits anyway (with 1). */
  SHUTDOWN_DRAIN_SECONDS: z.coerce.number().int().min(1).max(600).default(10),
  /** Apply pending migrations at start (the default). Off: start only if the schema is current. */
  MIGRATE_ON_START: booleanFlag.default(true),
  /**
   * At start, keep trying to reach Postgres this long (seconds, with backoff, one log line per attempt)
   * before exiting non-zero; 0 tries once.
   */
  DB_START_RETRY_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  /** Longest wait for a Postgres connection (from the pool, or a new one), in ms; then 503 `database_unavailable`. */
  DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /**
   * Longest one SQL statement may run, in ms (Postgres `statement_timeout`); the client gives up one second
   * later if the server does not answer at all (frozen, partitioned). Then 503 `database_unavailable`.
   */
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  /**
   * Longest a request may take from arrival to response, in ms; past it the client gets 503 `deadline_exceeded`
   * (the NDJSON import has its own, longer deadline). 0 = no deadline.
   */
  REQUEST_DEADLINE_MS: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
  /** The NDJSON import's own deadline, in ms (50,000 lines take minutes); then 503 `deadline_exceeded`. 0 = none. */
  IMPORT_DEADLINE_MS: z.coerce.number().int().min(0).max(3_600_000).default(600_000),
  /**
   * Longest a client may take to send a request's headers and body, in ms; a slower one gets 408 `request_timeout`
   * and is disconnected, checked every second. Raise it for NDJSON imports over slow links.
   */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  /**
   * How long a claimed Idempotency-Key whose request never finished (its instance died, the database went
   * away) stays locked, in seconds, before a retry takes it over and runs the request again.
   */
  IDEMPOTENCY_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),

  /** This service's public base URL: the `iss` of the tokens it signs, and the token URL in the docs. */
  PUBLIC_URL: z.url({ error: 'must be an absolute URL' }).default('http://localhost:3000'),
  /** The `aud` of access tokens: ours, and the one trusted issuers must put in theirs unless they set their own. */
  AUTH_AUDIENCE: z.string().min(1).default('therapath'),
  /**
   * Token signing keys: a private JWK, a JSON array or JWKS of them, or PEM (PKCS#8) blocks; Ed25519 or
   * P-256. The first private key signs; every key verifies, so add the new key first to rotate, and drop
   * the old one after the access-token lifetime. Required with DATABASE_URL; the embedded database
   * generates one into DATA_DIR.
   */
  AUTH_SIGNING_KEYS: z.string().min(1).optional(),
  AUTH_ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  AUTH_REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /** JSON array of identity providers whose user tokens we accept: [{issuer, jwksUrl, audience?, scopes?, name?}]. */
  AUTH_TRUSTED_ISSUERS: jsonValue.pipe(z.array(TrustedIssuerSchema, { error: 'must be a JSON array of {issuer, jwksUrl, audience?, scopes?, name?}' })).default([]),
  /**
   * Accept a trusted issuer's `jwksUrl` on a loopback, private or link-local address. Off by default: the
   * service would fetch whatever such an address serves (e.g. a cloud metadata endpoint).
   */
  AUTH_ALLOW_PRIVATE_JWKS: booleanFlag.default(false),

  /**
   * Keys that encrypt journal text at rest: `id:base64key` pairs (32-byte keys), comma- or
   * space-separated, newest first. The first encrypts; all decrypt, so rotation puts a new key in
   * front and runs `npm run journal:rotate-key`. Required with DATABASE_URL; the embedded database
   * generates one into DATA_DIR.
   */
  JOURNAL_ENCRYPTION_KEYS: z.string().min(1).optional(),

  /** Requests per window per user, client or (unauthenticated) IP; separately, failed authentications per IP. */
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(600),
  /** Requests per window per IP on register, login, refresh and the token endpoint. */
  RATE_LIMIT_AUTH_MAX: z.coerce.number().int().min(1).default(20),
  /** Attempts per window per account (email, client id or refresh token) on those endpoints. */
  RATE_LIMIT_ACCOUNT_MAX: z.coerce.number().int().min(1).default(10),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** Key prefix in Redis, so several deployments can share one Redis without sharing limits. */
  RATE_LIMIT_NAMESPACE: z.string().min(1).max(100).default('therapath:ratelimit:'),

  /**
   * Where an assessment's safety alert sends people: a JSON array of
   * {name, for: ["self-harm" | "domestic-violence"], description, call?, text?, textKeyword?, chatUrl?, url?},
   * with at least one resource for each kind. Defaults to the US: 988, the National Domestic Violence Hotline, 911.
   */
  CRISIS_RESOURCES: jsonValue
    .pipe(CrisisResourcesSchema)
    .default(DEFAULT_CRISIS_RESOURCES),

  /**
   * The longest a user may keep journal entries, in days: a user's own `journalRetentionDays` may not be
   * longer, and users who chose to keep everything keep this long. Unset: no maximum.
   */
  JOURNAL_RETENTION_MAX_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  /** How long the directory's change log keeps events (days); a feed position older than that answers 410 (re-sync). */
  DIRECTORY_CHANGES_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** How often this instance looks for webhook deliveries to send (milliseconds); 0: this instance sends none. */
  WEBHOOK_DELIVERY_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  /** A claimed delivery's lease: another instance takes it over after this long (a crash). Longer than the 10 s send timeout. */
  WEBHOOK_LEASE_SECONDS: z.coerce.number().int().min(15).max(3600).default(60),
  /** An endpoint whose every delivery attempt failed for this long (hours) is disabled until the app re-enables it. */
  WEBHOOK_DISABLE_AFTER_HOURS: z.coerce.number().positive().max(8760).default(120),
  /**
   * Lets webhook URLs be http and point at private, loopback or link-local addresses. Only for tests and local
   * development: with it, apps can make this service call into its own network.
   */
  WEBHOOK_ALLOW_PRIVATE_URLS: booleanFlag.default(false),
  /** How often each instance tries the retention sweep (one instance at a time runs it); 0 turns the schedule off. */
  RETENTION_SWEEP_INTERVAL_MINUTES: z.coerce.number().int().min(0).max(1440).default(60),
})

export type Config = Readonly<Omit<z.infer<typeof EnvSchema>, 'HOST'> & { HOST: string }>

/** Keys that every instance on one Postgres database must share, and why. */
const SHARED_KEYS = {
  AUTH_SIGNING_KEYS: 'every instance must sign and verify access tokens with the same keys',
  JOURNAL_ENCRYPTION_KEYS: 'every instance must encrypt and decrypt journal entries with the same keys',
} as const
export type SharedKey = keyof typeof SHARED_KEYS

export const sharedKeyRequired = (name: SharedKey): string =>
  `${name} is required with DATABASE_URL (${SHARED_KEYS[name]}): create one with \`npm run keys:generate\``

/**
 * The service's configuration: on Postgres the keys must be configured, so that a missing key is
 * the one-line configuration error at start, before any database work. (The embedded database
 * generates its keys into DATA_DIR.)
 */
/** Every configuration, the service's and the commands': no JWKS fetched from a private address unless allowed. */
const CheckedEnvSchema = EnvSchema.superRefine((env, ctx) => {
  if (env.AUTH_ALLOW_PRIVATE_JWKS) return
  for (const [index, issuer] of env.AUTH_TRUSTED_ISSUERS.entries()) {
    if (isPrivateHost(new URL(issuer.jwksUrl).hostname)) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_TRUSTED_ISSUERS', index, 'jwksUrl'],
        message: `AUTH_TRUSTED_ISSUERS: the jwksUrl of ${issuer.issuer} is on a private, loopback or link-local address; set AUTH_ALLOW_PRIVATE_JWKS=true if that is intended`,
      })
    }
  }
})

const ServiceEnvSchema = CheckedEnvSchema.superRefine((env, ctx) => {
  if (env.DATABASE_URL === undefined) {
    if (env.DATABASE_READ_URLS.length > 0) ctx.addIssue({ code: 'custom', message: 'DATABASE_READ_URLS needs DATABASE_URL (the primary): the embedded database has no replicas' })
    return
  }
  for (const name of Object.keys(SHARED_KEYS) as SharedKey[]) {
    if (env[name] === undefined) ctx.addIssue({ code: 'custom', message: sharedKeyRequired(name) })
  }
})

/** A configuration that cannot work; its message is one line, starting `Invalid configuration:`. */
export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor(problems: string | readonly string[]) {
    super(`Invalid configuration: ${typeof problems === 'string' ? problems : problems.join('; ')}`)
  }
}

/**
 * Parses the environment into a frozen `Config`.
 * Empty values count as unset, so `FOO=` in a compose file falls back to the default.
 * @param options.sharedKeys - `optional` for operator commands that sign and encrypt nothing
 *   (db:migrate, db:seed, client:create); the service and everything else require them on Postgres.
 * @throws ConfigError with one line naming each bad variable.
 */
export function loadConfig(env: Record<string, string | undefined>, options: { sharedKeys?: 'required' | 'optional' } = {}): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key in EnvSchema.shape && value !== undefined && value !== ''),
  )
  const parsed = (options.sharedKeys === 'optional' ? CheckedEnvSchema : ServiceEnvSchema).safeParse(present)
  if (!parsed.success) {
    // A rule across variables names them in its message; a field's issue is prefixed with its name.
    throw new ConfigError(
      parsed.error.issues.map((issue) =>
        issue.path.length === 0 || (issue.code === 'custom' && issue.message.startsWith(`${String(issue.path[0])}:`)) ? issue.message : `${String(issue.path[0])}: ${issue.message}`,
      ),
    )
  }
  const host = parsed.data.HOST ?? (parsed.data.DATABASE_URL === undefined ? '127.0.0.1' : '0.0.0.0')
  return Object.freeze({ ...parsed.data, HOST: host })
}
