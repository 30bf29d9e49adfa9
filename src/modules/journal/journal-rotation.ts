import type { PrismaClient } from '../../generated/prisma/client.js'
import { operatorActor, record } from '../../lib/access-trail.js'
import type { JournalKeyring } from './journal-crypto.js'
import { resealedColumns } from './journal-codec.js'

/** How the access trail names this command. */
const ROTATION_ACTOR = operatorActor('journal:rotate-key')

export interface RotationOptions {
  /** Rows re-sealed per transaction. */
  batchSize?: number
  /** Stop after this many batches (the rest stays for the next run); unlimited when omitted. */
  maxBatches?: number
  /** Called after each committed batch. */
  onBatch?: (progress: RotationProgress) => void
}

export interface RotationProgress {
  batches: number
  /** Rows now sealed with the current key. */
  rotated: number
  /** Rows changed by someone else between our read and write (edited, so already re-sealed, or deleted). */
  changedMeanwhile: number
}

export interface RotationResult extends RotationProgress {
  currentKeyId: string
  /** Rows still sealed with an older key, by key id: `{}` when every old key can be dropped. */
  remaining: Record<string, number>
}

/**
 * Re-seals journal entries sealed with an older key with the keyring's current one, in batches of
 * `WHERE key_id <> current AND id > last ORDER BY id LIMIT n`. Each batch commits on its own, so an
 * interrupted run loses nothing and the next run carries on with the rows still on old keys. Each row
 * is written only if its revision is still the one we read (an edit in between wins; it re-sealed the
 * row anyway), and keeps its `updatedAt`: rotation is not an edit.
 * @throws JournalDecryptionError, naming the row, when a row cannot be opened with the configured keys;
 *   the batches before it stay committed
 */
export async function rotateJournalKeys(
  prisma: Pick<PrismaClient, 'journalEntry' | '$transaction'>,
  keyring: JournalKeyring,
  options: RotationOptions = {},
): Promise<RotationResult> {
  const batchSize = options.batchSize ?? 500
  const current = keyring.current.id
  const progress: RotationProgress = { batches: 0, rotated: 0, changedMeanwhile: 0 }
  let after: string | undefined
  while (options.maxBatches === undefined || progress.batches < options.maxBatches) {
    const rows = await prisma.journalEntry.findMany({
      where: { keyId: { not: current }, ...(after === undefined ? {} : { id: { gt: after } }) },
      orderBy: { id: 'asc' },
      take: batchSize,
    })
    if (rows.length === 0) break
    // One transaction per batch: the rows re-sealed and, for each, its access-trail record (an operator
    // command changed the user's entry). Rows changed meanwhile are neither written nor recorded.
    const written = await prisma.$transaction(
      async (tx) => {
        const done: typeof rows = []
        for (const row of rows) {
          const result = await tx.journalEntry.updateMany({
            where: { id: row.id, revision: row.revision },
            data: { ...resealedColumns(keyring, row), revision: { increment: 1 }, updatedAt: row.updatedAt },
          })
          if (result.count === 1) done.push(row)
        }
        await record(
          tx,
          ROTATION_ACTOR,
          done.map((row) => ({ userId: row.userId, action: 'update' as const, resourceType: 'journal_entry' as const, resourceId: row.id })),
        )
        return done.length
      },
      { timeout: 120_000, maxWait: 30_000 },
    )
    progress.batches += 1
    progress.rotated += written
    progress.changedMeanwhile += rows.length - written
    after = rows.at(-1)?.id
    options.onBatch?.({ ...progress })
  }
  const left = await prisma.journalEntry.groupBy({ by: ['keyId'], where: { keyId: { not: current } }, _count: { _all: true } })
  return { ...progress, currentKeyId: current, remaining: Object.fromEntries(left.map((group) => [group.keyId, group._count._all])) }
}
