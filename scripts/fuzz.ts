/**
 * `npm run fuzz`: every operation of `/openapi.json`, called with seeded generated inputs, valid and
 * invalid, against a running instance of the service (the embedded database, or Postgres when
 * DATABASE_URL is set: a fresh database is created in it and dropped afterwards).
 *
 * Fails (exit 1) on any 5xx, any error that is not problem+json (the OAuth token endpoint answers in
 * RFC 6749's `{error, error_description}` shape instead), and any 2xx JSON body that does not match the
 * response schema the document gives for it (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses).
 *
 * Options (environment): FUZZ_SEED (default 11), FUZZ_PER_OPERATION (default 60 requests).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv2020 } from 'ajv/dist/2020.js'
import pg from 'pg'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SEED = Number(process.env.FUZZ_SEED ?? 11)
const PER_OPERATION = Number(process.env.FUZZ_PER_OPERATION ?? 60)
const log = (message: string) => process.stderr.write(`[fuzz] ${message}\n`)

// ---------------------------------------------------------------------------------------------
// Seeded randomness

let state = SEED >>> 0
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
const chance = (p: number) => random() < p
const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1))
const uuid = () => {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/** Values that have broken services before: NUL, unpaired surrogates, huge numbers, odd dates, long text. */
const HOSTILE: unknown[] = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  '',
  ' ',
  'x'.repeat(5000),
  '0000-01-01T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  '2026-02-30T00:00:00Z',
  2147483648,
  -2147483649,
  Number.MAX_SAFE_INTEGER + 2,
  1e308,
  -1,
  0,
  1.5,
  true,
  null,
  [],
  {},
  '../../etc/passwd',
  "'; drop table users; --",
  '%00',
  '💥',
]

// ---------------------------------------------------------------------------------------------
// Values from JSON Schema

type Schema = Record<string, unknown>
let doc: { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } }

interface Operation {
  operationId?: string
  parameters?: { in: string; name: string; required?: boolean; schema?: Schema }[]
  requestBody?: { content: Record<string, { schema: Schema }> }
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>
}

function resolve(schema: Schema): Schema {
  let current = schema
  for (let depth = 0; typeof current.$ref === 'string' && depth < 10; depth++) {
    const name = current.$ref.split('/').pop() ?? ''
    current = doc.components?.schemas?.[name] ?? {}
  }
  return current
}

function exampleOf(schema: Schema): unknown {
  if (schema.example !== undefined) return schema.example
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return pick(schema.examples as unknown[])
  return undefined
}

function validValue(raw: Schema, depth = 0): unknown {
  const schema = resolve(raw)
  if (depth > 6) return null
  if (schema.const !== undefined) return schema.const
  if (Array.isArray(schema.enum)) return pick(schema.enum)
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key]
    if (Array.isArray(options) && options.length > 0) return validValue(pick(options) as Schema, depth + 1)
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) return validValue((schema.allOf as Schema[])[0] ?? {}, depth + 1)
  const example = chance(0.5) ? exampleOf(schema) : undefined
  if (example !== undefined) return example
  const type = Array.isArray(schema.type) ? pick((schema.type as unknown[]).filter((t) => t !== 'null')) : schema.type
  switch (type) {
    case 'string':
      return stringFor(schema)
    case 'integer': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : 0
      const max = typeof schema.maximum === 'number' ? Math.min(schema.maximum, min + 1000) : min + 100
      return int(Math.ceil(min), Math.floor(max))
    }
    case 'number': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : 0
      const max = typeof schema.maximum === 'number' ? schema.maximum : min + 100
      return Math.round((min + random() * (max - min)) * 100) / 100
    }
    case 'boolean':
      return chance(0.5)
    case 'array': {
      const count = int(typeof schema.minItems === 'number' ? schema.minItems : 0, Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : 3, 3))
      return Array.from({ length: count }, () => validValue((schema.items as Schema) ?? {}, depth + 1))
    }
    case 'object':
    case undefined: {
      if (!schema.properties) return type === 'object' ? {} : 'x'
      const required = new Set((schema.required as string[] | undefined) ?? [])
      const out: Record<string, unknown> = {}
      for (const [name, property] of Object.entries(schema.properties as Record<string, Schema>)) {
        if (required.has(name) || chance(0.5)) out[name] = validValue(property, depth + 1)
      }
      return out
    }
    default:
      return null
  }
}

function stringFor(schema: Schema): string {
  switch (schema.format) {
    case 'uuid':
      return uuid()
    case 'date-time':
      return new Date(Date.UTC(2026, int(0, 10), int(1, 28), int(0, 23))).toISOString()
    case 'date':
      return `2026-0${int(1, 9)}-1${int(0, 9)}`
    case 'email':
      return `fuzz-${uuid()}@example.com`
    case 'uri':
    case 'url':
      return `https://example.com/${uuid()}`
    default:
      break
  }
  const min = typeof schema.minLength === 'number' ? schema.minLength : 1
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : 24
  const words = ['calm', 'anxious', 'CBT', 'couples', 'boundaries', 'Oakland', 'ca', 'en', 'aetna', 'weekend', 'Robin Reyes']
  let text = pick(words)
  while (text.length < min) text += ` ${pick(words)}`
  return text.slice(0, Math.max(min, Math.min(max, text.length)))
}

/** A value that breaks the schema one way or another, or a hostile one. */
function invalidValue(raw: Schema): unknown {
  const schema = resolve(raw)
  if (chance(0.5)) return pick(HOSTILE)
  const type: unknown = Array.isArray(schema.type) ? (schema.type as unknown[])[0] : schema.type
  if (type === 'object' && schema.properties) {
    const value = validValue(schema) as Record<string, unknown>
    const names = Object.keys(schema.properties)
    const name = pick(names)
    const roll = random()
    if (roll < 0.3) delete value[name]
    else if (roll < 0.5) value[`unexpected${int(0, 9)}`] = 1
    else value[name] = pick(HOSTILE)
    return value
  }
  if (type === 'array') return [pick(HOSTILE)]
  if (type === 'integer' || type === 'number') return pick([2147483648, -1, 1.5, 'seven', 1e20])
  if (type === 'string') return pick(['\u0000', '\ud800', 'x'.repeat(2000), '', 42])
  return pick(HOSTILE)
}

const asQueryValue = (value: unknown): string => (typeof value === 'string' ? value : Array.isArray(value) ? value.map(asQueryValue).join(',') : JSON.stringify(value))

// ---------------------------------------------------------------------------------------------
// The instance

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolvePort(port))
    })
  })
}

const port = await freePort()
const BASE = `http://127.0.0.1:${port}`
const baseUrl = process.env.DATABASE_URL
const scratchName = `therapath_fuzz_${process.pid}`
let databaseUrl: string | undefined
let dataDir: string | undefined
if (baseUrl) {
  const admin = new pg.Client({ connectionString: baseUrl })
  await admin.connect()
  await admin.query(`create database ${scratchName}`)
  await admin.end()
  const url = new URL(baseUrl)
  url.pathname = `/${scratchName}`
  databaseUrl = url.toString()
} else {
  dataDir = mkdtempSync(path.join(tmpdir(), 'therapath-fuzz-'))
}

const env: Record<string, string | undefined> = {
  ...process.env,
  PORT: String(port),
  HOST: '127.0.0.1',
  DATABASE_URL: databaseUrl ?? '',
  DATA_DIR: dataDir ?? 'memory',
  AUTH_SIGNING_KEYS: JSON.stringify({ ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: 'fuzz' }),
  JOURNAL_ENCRYPTION_KEYS: `fuzz:${randomBytes(32).toString('base64')}`,
  LOG_LEVEL: 'fatal',
  RATE_LIMIT_MAX: '1000000',
  RATE_LIMIT_AUTH_MAX: '1000000',
  RATE_LIMIT_ACCOUNT_MAX: '1000000',
  DEMO_DATA: 'off',
  REDIS_URL: '',
}

// An app with every client scope, made before the server holds the database (embedded: one process).
const created = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/create-client.ts', '--name', 'fuzz', '--scopes', 'directory:read,directory:write'], {
  cwd: ROOT,
  env,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'ignore'],
})
const client = JSON.parse(created) as { clientId: string; clientSecret: string }

let service: ChildProcess | undefined
async function start(): Promise<void> {
  service = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] })
  for (let waited = 0; waited < 90_000; waited += 250) {
    try {
      if ((await fetch(`${BASE}/readyz`)).status === 200) return
    } catch {
      // starting
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 250))
  }
  throw new Error('the service did not become ready')
}

async function cleanUp(): Promise<void> {
  if (service && service.exitCode === null) {
    const exited = new Promise((resolveExit) => service?.once('exit', resolveExit))
    service.kill('SIGTERM')
    await exited
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  if (baseUrl) {
    const admin = new pg.Client({ connectionString: baseUrl })
    await admin.connect()
    await admin.query(`drop database if exists ${scratchName} with (force)`)
    await admin.end()
  }
}

// ---------------------------------------------------------------------------------------------
// The run

interface Failure {
  operation: string
  status: number
  why: string
  request: string
}

async function run(): Promise<number> {
  await start()
  doc = (await (await fetch(`${BASE}/openapi.json`)).json()) as typeof doc
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false })
  ajv.addSchema(doc, 'openapi.json')

  const register = async () => {
    const res = await fetch(`${BASE}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `fuzz-${uuid()}@example.com`, password: 'fuzzing is a long passphrase' }),
    })
    return (await res.json()) as { accessToken: string; refreshToken: string }
  }
  const user = await register()
  const token = await fetch(`${BASE}/v1/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
  })
  const clientToken = ((await token.json()) as { access_token: string }).access_token
  // Real ids for path parameters, so requests reach the code behind the lookups too.
  const ids: Record<string, string[]> = { journal: [], assessments: [], therapists: [] }
  const post = async (url: string, body: unknown, bearer: string) =>
    (await (await fetch(`${BASE}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify(body) })).json()) as {
      id?: string
    }
  for (let i = 0; i < 3; i++) {
    ids.journal?.push((await post('/v1/journal/entries', { body: `Entry ${i}`, mood: 4 + i, tags: ['fuzz'] }, user.accessToken)).id ?? uuid())
    ids.assessments?.push(
      (await post('/v1/assessments', { instrumentId: 'gad-7', answers: Array.from({ length: 7 }, (_, n) => ({ itemId: `gad7-${n + 1}`, value: n % 4 })) }, user.accessToken)).id ?? uuid(),
    )
    ids.therapists?.push(
      (await post('/v1/therapists', { name: `Fuzz Therapist ${i}`, license: { type: 'lcsw', state: 'CA' }, formats: ['telehealth'], acceptingNewClients: true }, clientToken)).id ?? uuid(),
    )
  }

  const operations = Object.entries(doc.paths).flatMap(([template, methods]) =>
    Object.entries(methods)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, operation]) => ({ template, method, operation })),
  )
  // Operations that end the session go last, once.
  const last = (op: { template: string; method: string }) => (op.template === '/v1/me' && op.method === 'delete') || op.template === '/v1/auth/logout'
  operations.sort((a, b) => Number(last(a)) - Number(last(b)))

  const failures: Failure[] = []
  let requests = 0
  const statuses = new Map<number, number>()
  for (const { template, method, operation } of operations) {
    const name = operation.operationId ?? `${method} ${template}`
    const rounds = last({ template, method }) ? 4 : PER_OPERATION
    for (let round = 0; round < rounds; round++) {
      const valid = round % 2 === 0
      let url = template.replace(/\{(\w+)\}/g, (_, param: string) => {
        const pool = template.includes('journal') ? ids.journal : template.includes('assessments') ? ids.assessments : template.includes('therapists') ? ids.therapists : []
        const value = valid ? (pool && pool.length > 0 && chance(0.7) ? pick(pool) : param === 'id' && template.includes('instruments') ? pick(['gad-7', 'phq-9', 'therapy-readiness']) : uuid()) : asQueryValue(pick([...HOSTILE, 'x'.repeat(101), uuid()]))
        try {
          // An empty segment would be another operation (`/v1/therapists/` is the list).
          return encodeURIComponent(String(value)) || '-'
        } catch {
          // An unpaired surrogate: send the bytes a careless client would (CESU-8), which are not UTF-8.
          return '%ED%A0%80'
        }
      })
      const query = new URLSearchParams()
      const headers: Record<string, string> = {}
      for (const parameter of operation.parameters ?? []) {
        const include = parameter.required || chance(valid ? 0.4 : 0.5)
        if (!include) continue
        const value = valid ? validValue(parameter.schema ?? {}) : chance(0.6) ? invalidValue(parameter.schema ?? {}) : validValue(parameter.schema ?? {})
        if (parameter.in === 'query') query.append(parameter.name, asQueryValue(value))
        else if (parameter.in === 'header') headers[parameter.name] = asQueryValue(value).replace(/[^\x21-\x7e]/g, '') || 'k'
      }
      if (query.size > 0) url += `?${query.toString()}`
      const forClient = template.startsWith('/v1/therapists') && method !== 'get'
      const auth = chance(0.05) ? 'Bearer not.a.token' : chance(0.03) ? undefined : `Bearer ${forClient ? clientToken : user.accessToken}`
      if (auth) headers.authorization = auth
      let body: string | undefined
      const content = operation.requestBody?.content
      if (content) {
        const [type, media] = Object.entries(content)[0] ?? ['application/json', { schema: {} }]
        if (type === 'application/x-ndjson') {
          headers['content-type'] = type
          body = Array.from({ length: int(1, 3) }, () => JSON.stringify(valid ? validValue(resolve(doc.components?.schemas?.TherapistCreate ?? {})) : invalidValue({ type: 'object' }))).join('\n')
        } else {
          headers['content-type'] = type
          const value = valid ? validValue(media.schema) : chance(0.1) ? undefined : invalidValue(media.schema)
          body = value === undefined ? '{"broken": ' : JSON.stringify(value)
        }
      }
      requests++
      let res: Response
      let text: string
      try {
        res = await fetch(`${BASE}${url}`, { method: method.toUpperCase(), headers, body, signal: AbortSignal.timeout(20_000) })
        text = await res.text()
      } catch (error) {
        failures.push({ operation: name, status: 0, why: `no response: ${(error as Error).message}`, request: `${method.toUpperCase()} ${url}` })
        continue
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      const type = res.headers.get('content-type') ?? ''
      const fail = (why: string) => failures.push({ operation: name, status: res.status, why, request: `${method.toUpperCase()} ${url} ${body?.slice(0, 200) ?? ''}` })
      if (res.status >= 500) fail(`5xx: ${text.slice(0, 200)}`)
      else if (res.status >= 400) {
        const oauth = template === '/v1/oauth/token' && type.startsWith('application/json') && typeof (JSON.parse(text) as { error?: unknown }).error === 'string'
        if (!type.startsWith('application/problem+json') && !oauth) fail(`error not problem+json (${type}): ${text.slice(0, 200)}`)
      } else if (res.status >= 200 && res.status < 300 && type.startsWith('application/json')) {
        const described = operation.responses[String(res.status)]?.content?.['application/json']
        if (!described) fail('2xx with a status the document does not list')
        else {
          const pointer = ['paths', template, method, 'responses', String(res.status), 'content', 'application/json', 'schema'].map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')
          const validate = ajv.getSchema(`openapi.json#/${pointer}`)
          if (validate && !validate(JSON.parse(text))) fail(`2xx body does not match its schema: ${ajv.errorsText(validate.errors)}`)
        }
      }
    }
  }

  const byStatus = [...statuses.entries()].sort(([a], [b]) => a - b).map(([status, count]) => `${status}: ${count}`).join(', ')
  console.log(`fuzz (${baseUrl ? 'postgres' : 'embedded'}, seed ${SEED}): ${requests} requests over ${operations.length} operations; statuses ${byStatus}`)
  console.log(`5xx: ${failures.filter((f) => f.status >= 500).length}, non-problem errors: ${failures.filter((f) => f.why.startsWith('error not')).length}, schema mismatches: ${failures.filter((f) => f.why.startsWith('2xx')).length}, no response: ${failures.filter((f) => f.status === 0).length}`)
  const shown = new Set<string>()
  for (const failure of failures) {
    const key = `${failure.operation} ${failure.status} ${failure.why.slice(0, 60)}`
    if (shown.has(key)) continue
    shown.add(key)
    console.log(`FAIL ${failure.operation} → ${failure.status}: ${failure.why}\n     ${failure.request}`)
  }
  return failures.length === 0 && requests >= 2000 ? 0 : 1
}

let code = 1
try {
  code = await run()
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
} finally {
  await cleanUp().catch((error: unknown) => log(`clean-up: ${String(error)}`))
}
process.exit(code)
