import type { Progress, ScoreChange } from './assessments-schemas.js'
import type { InstrumentDefinition } from './instrument-schema.js'

/**
 * Progress over time for one instrument, pure. Meaningful-change thresholds come from the
 * instrument's data (`progress.meaningfulChange`, with its source: PHQ-9 5 points, Löwe et al.
 * 2004; GAD-7 4 points, Toussaint et al. 2020); instruments without one report `meaningful: null`.
 */

const DAY_MS = 24 * 60 * 60 * 1000

export interface ProgressPoint {
  assessmentId: string
  takenAt: Date
  score: number
  band: { key: string; label: string }
  instrumentVersion: number
}

export function scoreChange(instrument: InstrumentDefinition, from: ProgressPoint, to: ProgressPoint): ScoreChange {
  const points = to.score - from.score
  const direction = points > 0 ? 'up' : points < 0 ? 'down' : 'none'
  const { higherIsBetter, meaningfulChange } = instrument.progress
  return {
    points,
    direction,
    better: higherIsBetter === null || direction === 'none' ? null : (direction === 'up') === higherIsBetter,
    meaningful: meaningfulChange === null ? null : Math.abs(points) >= meaningfulChange.points,
    from: { assessmentId: from.assessmentId, takenAt: from.takenAt.toISOString(), score: from.score },
  }
}

/**
 * @param instrument - the instrument's current version (thresholds, reassessment interval)
 * @param points - the user's results for it, oldest first
 * @param now - the time "days since the last result" counts to
 */
export function progressOf(instrument: InstrumentDefinition, points: readonly ProgressPoint[], now: Date): Progress {
  const first = points[0]
  const last = points.at(-1)
  const previous = points.at(-2)
  const daysSinceLast = last === undefined ? null : Math.max(0, Math.floor((now.getTime() - last.takenAt.getTime()) / DAY_MS))
  const afterDays = instrument.progress.reassessAfterDays
  return {
    instrument: { id: instrument.id, version: instrument.version, title: instrument.title },
    higherIsBetter: instrument.progress.higherIsBetter,
    meaningfulChange: instrument.progress.meaningfulChange,
    series: points.map((point) => ({
      assessmentId: point.assessmentId,
      takenAt: point.takenAt.toISOString(),
      score: point.score,
      band: point.band,
      instrumentVersion: point.instrumentVersion,
    })),
    changeSinceFirst: first && last && points.length > 1 ? scoreChange(instrument, first, last) : null,
    changeSincePrevious: previous && last ? scoreChange(instrument, previous, last) : null,
    lastTakenAt: last?.takenAt.toISOString() ?? null,
    daysSinceLast,
    reassess: { afterDays, due: daysSinceLast === null || daysSinceLast >= afterDays },
  }
}
