import { describe, expect, it } from 'vitest'
import { resolveRange } from '../../src/lib/date-range.js'
import { canonicalTimeZone, startOfLocalDay } from '../../src/lib/local-time.js'

describe('journal time zones', () => {
  it('accepts IANA names in any case and keeps aliases, refusing offsets and unknown names', () => {
    expect(canonicalTimeZone('europe/berlin')).toBe('Europe/Berlin')
    expect(canonicalTimeZone('UTC')).toBe('UTC')
    expect(canonicalTimeZone('Asia/Kolkata')).toBe('Asia/Kolkata')
    expect(canonicalTimeZone('Etc/GMT+5')).toBe('Etc/GMT+5')
    for (const bad of ['+02:00', '-0500', 'Mars/Olympus', '', 'Europe/Berlin; drop table', 'x'.repeat(65)]) expect(canonicalTimeZone(bad), bad).toBeNull()
  })

  it.each([
    ['2026-01-01', 'UTC', '2026-01-01T00:00:00.000Z'],
    ['2026-03-08', 'America/New_York', '2026-03-08T05:00:00.000Z'], // DST starts at 02:00 that day
    ['2026-03-09', 'America/New_York', '2026-03-09T04:00:00.000Z'],
    ['2026-10-25', 'Europe/Berlin', '2026-10-24T22:00:00.000Z'], // DST ends at 03:00 that day
    ['2026-01-01', 'Pacific/Kiritimati', '2025-12-31T10:00:00.000Z'],
    ['2026-01-01', 'Pacific/Pago_Pago', '2026-01-01T11:00:00.000Z'],
    ['2024-09-08', 'America/Santiago', '2024-09-08T04:00:00.000Z'], // midnight skipped: the day begins at 01:00
    ['2026-04-05', 'Australia/Lord_Howe', '2026-04-04T13:00:00.000Z'], // a half-hour DST zone
  ])('%s begins in %s at %s', (date, zone, instant) => {
    expect(startOfLocalDay(date, zone).toISOString()).toBe(instant)
  })

  it('reads plain dates as whole local days, and date-times as they are', () => {
    expect(resolveRange({ date: '2026-02-01' }, { date: '2026-02-28' }, 'Europe/Berlin')).toEqual({
      from: new Date('2026-01-31T23:00:00.000Z'),
      to: new Date('2026-02-28T22:59:59.999Z'),
    })
    const instant = new Date('2026-02-10T10:00:00Z')
    expect(resolveRange({ instant }, undefined, 'Europe/Berlin')).toEqual({ from: instant, to: undefined })
  })

  it('includes both ends, so one day or one instant is a period, and refuses `from` after `to`, naming `from`', () => {
    expect(resolveRange({ date: '2026-02-10' }, { date: '2026-02-10' }, 'UTC')).toEqual({
      from: new Date('2026-02-10T00:00:00.000Z'),
      to: new Date('2026-02-10T23:59:59.999Z'),
    })
    const instant = new Date('2026-02-10T10:00:00Z')
    expect(resolveRange({ instant }, { instant }, 'UTC')).toEqual({ from: instant, to: instant })
    expect(() => resolveRange({ date: '2026-02-11' }, { date: '2026-02-10' }, 'UTC')).toThrow(
      expect.objectContaining({ status: 400, extras: { errors: [expect.objectContaining({ in: 'query', field: 'from', code: 'invalid_range' })] } }),
    )
    // 23:30 UTC on the 10th is already the 11th in Berlin: after a `to` of the 10th read there.
    expect(() => resolveRange({ instant: new Date('2026-02-10T23:30:00Z') }, { date: '2026-02-10' }, 'Europe/Berlin')).toThrow(/`from` is after `to`/)
  })
})
