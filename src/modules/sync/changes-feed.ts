import type { Database } from '../../db/database.js'
import { AppError } from '../../lib/errors.js'
import type { ChangePage, TherapistChange } from './sync-schemas.js'

/**
 * The directory's change feed: the `therapist_event` log that statement triggers append to in the
 * transaction of every therapist write (see the directory_changes migration).
 *
 * Why a reader never skips an event: positions are drawn under a transaction-level advisory lock that
 * is released only once the drawing transaction's commit is visible. Whoever draws next has therefore
 * seen every lower position committed or rolled back, so every snapshot sees a prefix of the committed
 * positions: once a reader has seen position p, no event below p can appear later. Paging by
 * `position > after` is then exact, and a cursor is just a number that survives any restart.
 */

/** The system_state key that holds the highest position retention has deleted. */
export const PRUNED_KEY = 'directory_changes'

export interface ChangeRow {
  id: string
  type: TherapistChange['type']
  position: string
  therapistId: string
  occurredAt: string
  changedFields: string[] | null
}

const FEED_SQL = `SELECT
  COALESCE((SELECT (value->>'prunedThrough')::bigint FROM system_state WHERE key = '${PRUNED_KEY}'), 0)::text AS pruned,
  COALESCE((SELECT max(position) FROM therapist_event), 0)::text AS head,
  COALESCE((SELECT json_agg(json_build_object(
      'id', e.id, 'type', e.type, 'position', e.position::text, 'therapistId', e.therapist_id,
      'occurredAt', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'changedFields', e.changed_fields) ORDER BY e.position)
    FROM (SELECT * FROM therapist_event WHERE position > $1::bigint ORDER BY position LIMIT $2) e), '[]')::text AS events`

export interface ChangesFeedOptions {
  db: Pick<Database, 'query'>
}

export function createChangesFeed({ db }: ChangesFeedOptions) {
  async function read(after: bigint, limit: number): Promise<{ pruned: bigint; head: bigint; events: ChangeRow[] }> {
    const [row] = await db.query<{ pruned: string; head: string; events: string }>(FEED_SQL, [after.toString(), limit])
    const pruned = BigInt(row?.pruned ?? '0')
    const head = BigInt(row?.head ?? '0')
    return { pruned, head: head > pruned ? head : pruned, events: JSON.parse(row?.events ?? '[]') as ChangeRow[] }
  }

  return {
    /**
     * Events after `after` in position order, at most `limit` (one statement, so the retention check and
     * the page are one snapshot).
     * @param after - a position from a previous page, or `now` for the current head (a first sync)
     * @throws AppError 410 `changes_expired` when events after `after` were deleted by retention,
     *   410 `changes_cursor_unknown` for a position this database never issued (e.g. restored from a backup)
     */
    async page(after: string, limit: number): Promise<ChangePage> {
      if (after === 'now') {
        const { head } = await read(0n, 0)
        return { data: [], page: { nextCursor: head.toString(), hasMore: false } }
      }
      const from = BigInt(after)
      const { pruned, head, events } = await read(from, limit + 1)
      if (from < pruned) {
        throw new AppError(
          410,
          'changes_expired',
          'Gone',
          `Changes up to position ${pruned} are past the retention period and were deleted, so the changes after ${after} cannot be listed. ` +
            'Re-sync: read the current position with after=now, then page through GET /v1/therapists, then follow the feed from that position.',
          { oldestPosition: pruned.toString() },
        )
      }
      if (from > head) {
        throw new AppError(
          410,
          'changes_cursor_unknown',
          'Gone',
          `Position ${after} is ahead of this directory's change log (its latest is ${head}): the cursor comes from elsewhere, or the database was restored. ` +
            'Re-sync: read the current position with after=now, then page through GET /v1/therapists.',
          { latestPosition: head.toString() },
        )
      }
      const kept = events.slice(0, limit)
      const last = kept.at(-1)
      return { data: kept, page: { nextCursor: last ? last.position : after, hasMore: events.length > limit } }
    },

    /** The latest position (0 when nothing was ever written). */
    async head(): Promise<bigint> {
      return (await read(0n, 0)).head
    },

    /**
     * Deletes events that occurred before `cutoff` and remembers the highest position deleted, so a
     * cursor below it answers 410 instead of silently missing events.
     * @returns how many events were deleted
     */
    async prune(cutoff: Date): Promise<number> {
      const [row] = await db.query<{ deleted: number }>(
        `WITH gone AS (DELETE FROM therapist_event WHERE occurred_at < $1::timestamptz RETURNING position),
         top AS (SELECT max(position) AS p, count(*)::int AS n FROM gone),
         kept AS (
           INSERT INTO system_state (key, value, updated_at) SELECT '${PRUNED_KEY}', jsonb_build_object('prunedThrough', p), now() FROM top WHERE p IS NOT NULL
           ON CONFLICT (key) DO UPDATE SET value = jsonb_build_object('prunedThrough',
             GREATEST((system_state.value->>'prunedThrough')::bigint, (EXCLUDED.value->>'prunedThrough')::bigint)), updated_at = now()
         )
         SELECT n AS deleted FROM top`,
        [cutoff.toISOString()],
      )
      return row?.deleted ?? 0
    },
  }
}

export type ChangesFeed = ReturnType<typeof createChangesFeed>
