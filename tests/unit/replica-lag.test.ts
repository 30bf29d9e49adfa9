import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { parseLsn, replicaLagMs } from '../../src/db/replicas.js'

describe('replica lag', () => {
  it('reads WAL positions so that they order as Postgres orders them', () => {
    expect(parseLsn('0/0')).toBe(0n)
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) + 0xb374d848n)
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true)
    expect(() => parseLsn('nonsense')).toThrow()
  })

  it('is the age of the oldest primary position the replica has not replayed, 0 when it has them all', () => {
    const samples = [
      { lsn: 100n, at: 1000 },
      { lsn: 200n, at: 1500 },
      { lsn: 300n, at: 2000 },
    ]
    expect(replicaLagMs(samples, 300n, 2600)).toBe(0)
    expect(replicaLagMs(samples, 350n, 2600)).toBe(0)
    expect(replicaLagMs(samples, 250n, 2600)).toBe(600)
    expect(replicaLagMs(samples, 150n, 2600)).toBe(1100)
    expect(replicaLagMs(samples, 0n, 2600)).toBe(1600)
    // An idle primary: the position does not move, and a replica that has it lags 0 however long ago it was written.
    expect(replicaLagMs([{ lsn: 300n, at: 0 }], 300n, 1_000_000)).toBe(0)
    expect(replicaLagMs([], 0n, 5)).toBe(0)
  })
})

describe('replica configuration', () => {
  it('needs the primary', () => {
    expect(() => loadConfig({ DATABASE_READ_URLS: 'postgres://replica/db' })).toThrow(ConfigError)
    expect(() => loadConfig({ DATABASE_READ_URLS: 'postgres://replica/db' })).toThrow(/DATABASE_READ_URLS needs DATABASE_URL/)
  })

  it('takes a comma-separated list of postgres URLs', () => {
    const config = loadConfig({ DATABASE_READ_URLS: 'postgres://r1/db, postgresql://r2/db', DATABASE_URL: 'postgres://p/db' }, { sharedKeys: 'optional' })
    expect(config.DATABASE_READ_URLS).toEqual(['postgres://r1/db', 'postgresql://r2/db'])
    expect(() => loadConfig({ DATABASE_READ_URLS: 'mysql://r1/db', DATABASE_URL: 'postgres://p/db' }, { sharedKeys: 'optional' })).toThrow(/DATABASE_READ_URLS/)
  })
})
