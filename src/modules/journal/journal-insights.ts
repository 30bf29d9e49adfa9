import { type Actor, recordNow, type TrailClient } from '../../lib/access-trail.js'
import type { Database } from '../../db/database.js'
import { resolveRange } from '../../lib/date-range.js'
import { ValidationError } from '../../lib/errors.js'
import { bucketStart, localDate, startOfLocalDay } from '../../lib/local-time.js'
import type { InsightsQuery, JournalInsights } from './journal-schemas.js'
import { type ConflictResponse, type Emotion, groupOf, isConflictResponse, isEmotion } from './journal-vocabulary.js'

/**
 * The user's self-assessment scores over a period, one series per instrument: supplied by the
 * assessments module (wired in app.ts), so insights can show them beside mood without the journal
 * knowing how assessments are stored. Absent, insights report no scores.
 */
export type ScoreSeriesProvider = (userId: string, from: Date, to: Date) => Promise<Array<{ instrumentId: string; points: Array<{ takenAt: string; score: number }> }>>

/** The longest period one request may ask for: bounds the number of buckets (10 years ≈ 520 weeks). */
const MAX_RANGE_MS = 3660 * 24 * 60 * 60 * 1000
/** Without `from`, the period is this many buckets, the current one included. */
const DEFAULT_BUCKETS = 12

/**
 * Whether an entry has a conflict part. The free-text columns are only tested for presence: nothing
 * here ever decrypts, or could decrypt, what anyone wrote.
 */
const HAS_CONFLICT = `(conflict_response is not null or conflict_intensity is not null or trigger_enc is not null or response_note_enc is not null or outcome_enc is not null)`

const round2 = (value: number | null): number | null => (value === null ? null : Math.round(value * 100) / 100)

/** Postgres refuses a zone its tz database lacks even when ICU knows it (an alias, or a zone newer than its data). */
function isUnknownTimeZone(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  return code === '22023' && typeof message === 'string' && message.includes('time zone')
}

interface BucketRow {
  start: string
  end: string
  entries: number
  sum_mood: number
  min_mood: number | null
  max_mood: number | null
  conflicts: number
  /** Conflicts with an intensity, and their sum: means are computed from sums, so totals add up buckets. */
  intensities: number
  sum_intensity: number
  /** Entries whose text was flagged for crisis language when written. */
  flagged: number
}

const mean = (sum: number, count: number): number | null => (count === 0 ? null : round2(sum / count))

interface StreakRow {
  current: number
  longest: number | null
  longest_start: string | null
  longest_end: string | null
  last_entry_day: string | null
}

/**
 * Insights, computed by Postgres from the columns that are not encrypted (occurred_at, mood, emotions,
 * conflict response and intensity), in the user's time zone: `AT TIME ZONE` decides each entry's local
 * day, and `date_trunc` its ISO week (from Monday) or month. Four queries run at once — buckets (whose
 * sums also give the period's totals), responses per bucket, emotions, and streaks — the first three a
 * range scan of one user's rows on (user_id, occurred_at); the assessment scores come alongside.
 */
export function createJournalInsights({
  db,
  trail,
  scoreSeries,
}: {
  db: Pick<Database, 'query'>
  /** Where the read is recorded (the access trail), before any of it is computed. */
  trail: TrailClient
  scoreSeries?: ScoreSeriesProvider | undefined
}) {
  function bounds(query: InsightsQuery): { from: Date; to: Date } {
    const now = new Date()
    const range = resolveRange(query.from, query.to ?? { instant: now }, query.tz)
    const to = range.to ?? now
    // Without `from`: the start of the bucket DEFAULT_BUCKETS - 1 before the one holding `to`, in the user's zone.
    const from = range.from ?? startOfLocalDay(bucketStart(localDate(to, query.tz), query.bucket, DEFAULT_BUCKETS - 1), query.tz)
    if (to.getTime() - from.getTime() > MAX_RANGE_MS) {
      throw new ValidationError('The period is longer than 10 years.', [{ in: 'query', field: 'from', message: 'Ask for 10 years or less at a time.', code: 'invalid_range' }])
    }
    return { from, to }
  }

  async function compute(userId: string, query: InsightsQuery): Promise<JournalInsights> {
    const { from, to } = bounds(query)
    const { bucket, tz } = query
    const range = [userId, from.toISOString(), to.toISOString()]
    const inRange = `user_id = $1::uuid and occurred_at >= $2::timestamptz and occurred_at <= $3::timestamptz`

    const [buckets, responses, emotions, streaks, scores] = await Promise.all([
      db.query<BucketRow>(
        `with series as (
           select generate_series(date_trunc($4::text, $2::timestamptz at time zone $5::text),
                                  date_trunc($4::text, $3::timestamptz at time zone $5::text),
                                  ('1 ' || $4::text)::interval) as start
         ), entries as (
           select date_trunc($4::text, occurred_at at time zone $5::text) as start, mood, conflict_intensity, crisis_flag, ${HAS_CONFLICT} as has_conflict
             from journal_entries where ${inRange}
         )
         select to_char(s.start, 'YYYY-MM-DD') as start,
                to_char(s.start + ('1 ' || $4::text)::interval - interval '1 day', 'YYYY-MM-DD') as "end",
                count(e.mood)::int as entries, coalesce(sum(e.mood), 0)::int as sum_mood, min(e.mood)::int as min_mood, max(e.mood)::int as max_mood,
                count(*) filter (where e.has_conflict)::int as conflicts,
                count(e.conflict_intensity)::int as intensities, coalesce(sum(e.conflict_intensity), 0)::int as sum_intensity,
                count(*) filter (where e.crisis_flag)::int as flagged
           from series s left join entries e on e.start = s.start
          group by s.start order by s.start`,
        [...range, bucket, tz],
      ),
      db.query<{ start: string; response: string; count: number }>(
        `select to_char(date_trunc($4::text, occurred_at at time zone $5::text), 'YYYY-MM-DD') as start, conflict_response as response, count(*)::int as count
           from journal_entries where ${inRange} and conflict_response is not null
          group by 1, 2`,
        [...range, bucket, tz],
      ),
      db.query<{ emotion: string; count: number; mean_mood: number }>(
        `select emotion, count(*)::int as count, avg(mood)::float8 as mean_mood
           from journal_entries, unnest(emotions) as emotion
          where ${inRange}
          group by emotion order by count desc, emotion`,
        range,
      ),
      // Local days with an entry; consecutive days share (day - row number), which makes each run one group.
      db.query<StreakRow>(
        `with days as (
           select distinct (occurred_at at time zone $2::text)::date as day from journal_entries where user_id = $1::uuid
         ), runs as (
           select min(day) as first_day, max(day) as last_day, count(*)::int as length
             from (select day, day - (row_number() over (order by day))::int as run from days) numbered
            group by run
         )
         select coalesce((select length from runs where last_day >= (now() at time zone $2::text)::date - 1 order by last_day desc limit 1), 0) as current,
                longest.length as longest, to_char(longest.first_day, 'YYYY-MM-DD') as longest_start, to_char(longest.last_day, 'YYYY-MM-DD') as longest_end,
                (select to_char(max(day), 'YYYY-MM-DD') from days) as last_entry_day
           from (select 1) one left join lateral (select * from runs order by length desc, last_day desc limit 1) longest on true`,
        [userId, tz],
      ),
      scoreSeries ? scoreSeries(userId, from, to) : Promise.resolve([]),
    ])

    const byBucket = new Map<string, Array<{ response: ConflictResponse; count: number }>>()
    for (const row of responses) {
      if (!isConflictResponse(row.response)) continue
      byBucket.set(row.start, [...(byBucket.get(row.start) ?? []), { response: row.response, count: row.count }])
    }
    const withGroups = (counts: Array<{ response: ConflictResponse; count: number }>) =>
      counts
        .map(({ response, count }) => ({ response, group: groupOf(response), count }))
        .sort((a, b) => b.count - a.count || a.response.localeCompare(b.response))
    const overall = new Map<ConflictResponse, number>()
    for (const counts of byBucket.values()) for (const { response, count } of counts) overall.set(response, (overall.get(response) ?? 0) + count)

    // Every entry of the period falls in exactly one bucket, so the totals are the buckets' sums.
    const total = { entries: 0, sumMood: 0, conflicts: 0, intensities: 0, sumIntensity: 0, flagged: 0 }
    for (const row of buckets) {
      total.entries += row.entries
      total.sumMood += row.sum_mood
      total.conflicts += row.conflicts
      total.intensities += row.intensities
      total.sumIntensity += row.sum_intensity
      total.flagged += row.flagged
    }
    const streak = streaks[0] ?? { current: 0, longest: null, longest_start: null, longest_end: null, last_entry_day: null }
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      bucket,
      timeZone: tz,
      totals: {
        entries: total.entries,
        meanMood: mean(total.sumMood, total.entries),
        conflicts: total.conflicts,
        meanIntensity: mean(total.sumIntensity, total.intensities),
        flaggedEntries: total.flagged,
      },
      buckets: buckets.map((row) => {
        const counts = withGroups(byBucket.get(row.start) ?? [])
        const inGroup = (group: 'reactive' | 'regulated') => counts.filter((c) => c.group === group).reduce((sum, c) => sum + c.count, 0)
        return {
          start: row.start,
          end: row.end,
          mood: { count: row.entries, mean: mean(row.sum_mood, row.entries), min: row.min_mood, max: row.max_mood },
          conflict: { count: row.conflicts, meanIntensity: mean(row.sum_intensity, row.intensities), regulated: inGroup('regulated'), reactive: inGroup('reactive'), responses: counts },
          flaggedEntries: row.flagged,
        }
      }),
      emotions: emotions
        .filter((row) => isEmotion(row.emotion))
        .map((row) => ({
          emotion: row.emotion as Emotion,
          count: row.count,
          share: total.entries === 0 ? 0 : (round2(row.count / total.entries) ?? 0),
          meanMood: round2(row.mean_mood) ?? 0,
        })),
      conflictResponses: withGroups([...overall].map(([response, count]) => ({ response, count }))),
      streaks: {
        current: streak.current,
        longest: streak.longest ?? 0,
        longestStart: streak.longest_start,
        longestEnd: streak.longest_end,
        lastEntryDay: streak.last_entry_day,
      },
      assessmentScores: scores,
    }
  }

  return {
    /**
     * Mood, emotions, conflict responses and intensity per week or month, and writing streaks.
     * @throws ValidationError for a contradictory or too long period, or a zone the database does not know
     */
    async insights(userId: string, query: InsightsQuery, actor: Actor): Promise<JournalInsights> {
      // Four queries at once cannot share the record's transaction; the record commits first instead, so
      // nothing is computed from the journal without it.
      await recordNow(trail, actor, { userId, action: 'read', resourceType: 'journal_insights' })
      try {
        return await compute(userId, query)
      } catch (error) {
        if (!isUnknownTimeZone(error)) throw error
        throw new ValidationError('The database does not know this time zone.', [
          { in: 'query', field: 'tz', message: `Unknown time zone ${JSON.stringify(query.tz)}: use a canonical IANA name.`, code: 'invalid_value' },
        ])
      }
    },
  }
}
