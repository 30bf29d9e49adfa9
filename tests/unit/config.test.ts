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

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ PATH: '/usr/bin', SOMETHING_ELSE: '1' })).not.toThrow()
  })
})
