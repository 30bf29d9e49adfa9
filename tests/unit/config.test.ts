import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'

describe('loadConfig', () => {
  it('applies defaults to an empty environment', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({ PORT: 3000, HOST: '127.0.0.1', DATA_DIR: './data', LOG_LEVEL: 'info', LOG_FORMAT: 'json', CORS_ORIGINS: [], MIGRATE_ON_START: true })
    expect(config.DATABASE_URL).toBeUndefined()
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('listens on loopback only for the embedded demo, on every interface with Postgres, and where HOST says', () => {
    const keys = { AUTH_SIGNING_KEYS: 'k', JOURNAL_ENCRYPTION_KEYS: 'j' }
    expect(loadConfig({}).HOST).toBe('127.0.0.1')
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/x', ...keys }).HOST).toBe('0.0.0.0')
    expect(loadConfig({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0')
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/x', HOST: '127.0.0.1', ...keys }).HOST).toBe('127.0.0.1')
  })

  it('treats empty values as unset, as compose files often write them', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '' })
    expect(config.PORT).toBe(3000)
    expect(config.DATABASE_URL).toBeUndefined()
  })

  it('parses lists, numbers and flags', () => {
    const config = loadConfig({ PORT: '8080', CORS_ORIGINS: 'https://a.example, https://b.example', MIGRATE_ON_START: 'false' })
    expect(config.PORT).toBe(8080)
    expect(config.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example'])
    expect(config.MIGRATE_ON_START).toBe(false)
  })

  it.each([
    [{ PORT: 'eighty' }, /^Invalid configuration: PORT: /],
    [{ PORT: '70000' }, /^Invalid configuration: PORT: must be at most 65535$/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL: must be one of/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL: must be a redis:\/\//],
    [{ MIGRATE_ON_START: 'maybe' }, /MIGRATE_ON_START: must be true or false/],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(message)
    try {
      loadConfig(env)
    } catch (error) {
      expect((error as Error).message).not.toContain('\n')
    }
  })

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'y' })).toThrow(/PORT: .*; LOG_LEVEL: /)
  })

  it('defaults CRISIS_RESOURCES to the US: 988, the domestic-violence hotline and 911', () => {
    const resources = loadConfig({}).CRISIS_RESOURCES
    expect(resources.map((resource) => [resource.name, resource.call])).toEqual([
      ['988 Suicide & Crisis Lifeline', '988'],
      ['National Domestic Violence Hotline', '1-800-799-7233'],
      ['Emergency services', '911'],
    ])
  })

  it('takes CRISIS_RESOURCES as JSON, and refuses a list that leaves a kind of risk without a resource', () => {
    const uk = [
      { name: 'Samaritans', for: ['self-harm'], description: 'Call 116 123.', call: '116 123' },
      { name: 'Emergency', for: ['self-harm', 'domestic-violence'], description: 'Call 999.', call: '999' },
    ]
    expect(loadConfig({ CRISIS_RESOURCES: JSON.stringify(uk) }).CRISIS_RESOURCES).toEqual(uk)
    expect(() => loadConfig({ CRISIS_RESOURCES: JSON.stringify(uk.slice(0, 1)) })).toThrow(
      'Invalid configuration: CRISIS_RESOURCES: needs at least one resource for "domestic-violence"',
    )
    expect(() => loadConfig({ CRISIS_RESOURCES: '[{"name":"x"}]' })).toThrow(/^Invalid configuration: CRISIS_RESOURCES: /)
    expect(() => loadConfig({ CRISIS_RESOURCES: 'call 988' })).toThrow('CRISIS_RESOURCES: must be valid JSON')
    expect(() => loadConfig({ CRISIS_RESOURCES: JSON.stringify([{ ...uk[1], url: 'not a url' }]) })).toThrow(/CRISIS_RESOURCES: [^;]*URL/)
  })

  it('requires both keys with DATABASE_URL, in the one configuration line', () => {
    const url = 'postgresql://localhost/x'
    expect(() => loadConfig({ DATABASE_URL: url })).toThrow(ConfigError)
    expect(() => loadConfig({ DATABASE_URL: url })).toThrow(
      /^Invalid configuration: AUTH_SIGNING_KEYS is required with DATABASE_URL .*npm run keys:generate`; JOURNAL_ENCRYPTION_KEYS is required with DATABASE_URL .*npm run keys:generate`$/,
    )
    expect(() => loadConfig({ DATABASE_URL: url, AUTH_SIGNING_KEYS: '{}' })).toThrow(/^Invalid configuration: JOURNAL_ENCRYPTION_KEYS is required with DATABASE_URL/)
    expect(loadConfig({ DATABASE_URL: url, AUTH_SIGNING_KEYS: '{}', JOURNAL_ENCRYPTION_KEYS: 'k:x' }).DATABASE_URL).toBe(url)
    // The embedded database generates its own; operator commands that sign and encrypt nothing do without.
    expect(() => loadConfig({})).not.toThrow()
    expect(loadConfig({ DATABASE_URL: url }, { sharedKeys: 'optional' }).AUTH_SIGNING_KEYS).toBeUndefined()
  })

  it('refuses a trusted issuer whose JWKS is on a private or link-local address, unless AUTH_ALLOW_PRIVATE_JWKS=true', () => {
    const issuers = (jwksUrl: string) => JSON.stringify([{ issuer: 'https://idp.example', jwksUrl }])
    for (const url of [
      'https://169.254.169.254/latest/meta-data',
      'https://10.1.2.3/jwks.json',
      'https://172.20.0.1/jwks.json',
      'https://192.168.1.1/jwks.json',
      'http://127.0.0.1:8080/jwks.json',
      'https://[fd00::1]/jwks.json',
      'https://[fe80::1]/jwks.json',
      'https://[::ffff:169.254.169.254]/jwks.json',
      'http://localhost:9000/jwks.json',
    ]) {
      expect(() => loadConfig({ AUTH_TRUSTED_ISSUERS: issuers(url) }), url).toThrow(/AUTH_TRUSTED_ISSUERS: the jwksUrl of https:\/\/idp.example is on a private/)
      expect(loadConfig({ AUTH_TRUSTED_ISSUERS: issuers(url), AUTH_ALLOW_PRIVATE_JWKS: 'true' }).AUTH_TRUSTED_ISSUERS).toHaveLength(1)
    }
    expect(loadConfig({ AUTH_TRUSTED_ISSUERS: issuers('https://idp.example/.well-known/jwks.json') }).AUTH_TRUSTED_ISSUERS).toHaveLength(1)
    expect(loadConfig({ AUTH_TRUSTED_ISSUERS: issuers('https://8.8.8.8/jwks.json') }).AUTH_TRUSTED_ISSUERS).toHaveLength(1)
  })

  it('has bounded waits toward the database and for requests by default', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({ DB_CONNECT_TIMEOUT_MS: 5000, DB_STATEMENT_TIMEOUT_MS: 10_000, REQUEST_DEADLINE_MS: 15_000, REQUEST_TIMEOUT_MS: 60_000, IDEMPOTENCY_LEASE_SECONDS: 30, DB_START_RETRY_SECONDS: 60 })
  })

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ PATH: '/usr/bin', SOMETHING_ELSE: '1' })).not.toThrow()
  })
})
