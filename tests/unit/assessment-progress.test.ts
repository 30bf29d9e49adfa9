import { describe, expect, it } from 'vitest'
import { GAD_7 } from '../../src/modules/assessments/instruments/gad-7.js'
import { PHQ_9 } from '../../src/modules/assessments/instruments/phq-9.js'
import { RELATIONSHIP_RED_FLAGS } from '../../src/modules/assessments/instruments/relationship-red-flags.js'
import { THERAPY_READINESS } from '../../src/modules/assessments/instruments/therapy-readiness.js'
import { type ProgressPoint, progressOf } from '../../src/modules/assessments/progress.js'

const NOW = new Date('2026-11-26T12:00:00.000Z')
const daysAgo = (days: number, hours = 0) => new Date(NOW.getTime() - (days * 24 + hours) * 3600_000)
const point = (score: number, takenAt: Date, n: number): ProgressPoint => ({
  assessmentId: `00000000-0000-4000-8000-00000000000${n}`,
  takenAt,
  score,
  band: { key: 'b', label: 'B' },
  instrumentVersion: 1,
})

describe('progress', () => {
  it('reports the change since the first and the previous result, and whether each is meaningful', () => {
    const progress = progressOf(PHQ_9, [point(16, daysAgo(60), 1), point(12, daysAgo(30), 2), point(9, daysAgo(10, 23), 3)], NOW)
    expect(progress.series.map((entry) => entry.score)).toEqual([16, 12, 9])
    expect(progress.changeSinceFirst).toEqual({
      points: -7,
      direction: 'down',
      better: true,
      meaningful: true,
      from: { assessmentId: '00000000-0000-4000-8000-000000000001', takenAt: daysAgo(60).toISOString(), score: 16 },
    })
    expect(progress.changeSincePrevious).toMatchObject({ points: -3, direction: 'down', better: true, meaningful: false })
    expect(progress.daysSinceLast).toBe(10) // 10 days 23 hours: whole days
    expect(progress.reassess).toEqual({ afterDays: 14, due: false })
    expect(progress.meaningfulChange?.points).toBe(5)
    expect(progress.meaningfulChange?.source).toContain('Löwe')
  })

  it('uses 5 points for the PHQ-9 and 4 for the GAD-7, in either direction', () => {
    const change = (instrument: typeof PHQ_9, from: number, to: number) =>
      progressOf(instrument, [point(from, daysAgo(20), 1), point(to, daysAgo(1), 2)], NOW).changeSincePrevious
    expect(change(PHQ_9, 10, 5)).toMatchObject({ points: -5, meaningful: true, better: true })
    expect(change(PHQ_9, 10, 6)).toMatchObject({ points: -4, meaningful: false, better: true })
    expect(change(PHQ_9, 6, 11)).toMatchObject({ points: 5, direction: 'up', meaningful: true, better: false })
    expect(change(PHQ_9, 6, 10)).toMatchObject({ points: 4, meaningful: false, better: false })
    expect(change(GAD_7, 12, 8)).toMatchObject({ points: -4, meaningful: true, better: true })
    expect(change(GAD_7, 12, 9)).toMatchObject({ points: -3, meaningful: false })
    expect(change(GAD_7, 8, 12)).toMatchObject({ points: 4, meaningful: true, better: false })
    expect(change(GAD_7, 8, 8)).toMatchObject({ points: 0, direction: 'none', meaningful: false, better: null })
  })

  it('has no threshold for the checklists, and no good direction for readiness', () => {
    const readiness = progressOf(THERAPY_READINESS, [point(2, daysAgo(100), 1), point(5, daysAgo(95), 2)], NOW)
    expect(readiness.changeSinceFirst).toMatchObject({ points: 3, direction: 'up', better: null, meaningful: null })
    expect(readiness.meaningfulChange).toBeNull()
    expect(readiness.reassess).toEqual({ afterDays: 90, due: true })
    const flags = progressOf(RELATIONSHIP_RED_FLAGS, [point(1, daysAgo(10), 1), point(3, daysAgo(5), 2)], NOW)
    expect(flags.changeSincePrevious).toMatchObject({ points: 2, better: false, meaningful: null })
  })

  it('handles no result and a single result', () => {
    expect(progressOf(PHQ_9, [], NOW)).toMatchObject({
      series: [],
      changeSinceFirst: null,
      changeSincePrevious: null,
      lastTakenAt: null,
      daysSinceLast: null,
      reassess: { afterDays: 14, due: true },
    })
    const one = progressOf(PHQ_9, [point(7, daysAgo(14), 1)], NOW)
    expect(one).toMatchObject({ changeSinceFirst: null, changeSincePrevious: null, daysSinceLast: 14, reassess: { due: true } })
  })

  it('counts a result taken in the last minutes (or with a clock slightly ahead) as 0 days ago', () => {
    expect(progressOf(GAD_7, [point(3, new Date(NOW.getTime() + 60_000), 1)], NOW).daysSinceLast).toBe(0)
  })
})
