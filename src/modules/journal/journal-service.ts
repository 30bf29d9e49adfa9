import { randomUUID } from 'node:crypto'
import type { JournalEntry as JournalEntryRow, Prisma, PrismaClient } from '../../generated/prisma/client.js'
import { z } from 'zod'
import { resolveRange } from '../../lib/date-range.js'
import { isRecordNotFound } from '../../lib/db-errors.js'
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors.js'
import { decodeCursor, toPage } from '../../lib/pagination.js'
import type { JournalKeyring } from './journal-crypto.js'
import { applyChanges, fromInput, toColumns, toContent, toEntry } from './journal-codec.js'
import type { CreateJournalEntry, JournalEntry, ListEntriesQuery, UpdateJournalEntry } from './journal-schemas.js'

/** The list's sort key: newest `occurredAt` first, then id, so equal times still have one order. */
const CursorSchema = z.object({ o: z.iso.datetime(), i: z.uuid() })

/** Edits retry this often when another write to the same entry lands between their read and write. */
const WRITE_ATTEMPTS = 3

export interface JournalServiceDeps {
  prisma: Pick<PrismaClient, 'journalEntry'>
  keyring: JournalKeyring
}

/**
 * Journal entries for their owner. Every query carries the owner's id, so another user's entry is
 * never loaded: it is "not found", whatever the verb. Text is sealed before it reaches Prisma and
 * opened only on the way out.
 */
export function createJournalService({ prisma, keyring }: JournalServiceDeps) {
  async function findOwned(userId: string, id: string): Promise<JournalEntryRow> {
    const row = await prisma.journalEntry.findFirst({ where: { id, userId } })
    if (!row) throw new NotFoundError('journal entry', id)
    return row
  }

  return {
    async create(userId: string, input: CreateJournalEntry): Promise<JournalEntry> {
      const id = randomUUID()
      const row = await prisma.journalEntry.create({ data: { id, userId, ...toColumns(keyring, id, userId, fromInput(input, new Date())) } })
      return toEntry(keyring, row)
    },

    async get(userId: string, id: string): Promise<JournalEntry> {
      return toEntry(keyring, await findOwned(userId, id))
    },

    /**
     * One page of the user's entries, newest first. Keyset pagination on (occurredAt, id): entries
     * added or edited between pages neither repeat nor push others out of the pages still to come.
     * @throws ValidationError for a range or mood bounds that contradict themselves
     */
    async list(userId: string, query: ListEntriesQuery) {
      const { from, to } = resolveRange(query.from, query.to, query.tz)
      if (query.moodMin !== undefined && query.moodMax !== undefined && query.moodMin > query.moodMax) {
        throw new ValidationError('`moodMin` is above `moodMax`.', [{ in: 'query', field: 'moodMin', message: 'Must not be above `moodMax`.', code: 'invalid_range' }])
      }
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, CursorSchema)
      // `occurredAt <= cursor` repeats what the OR implies, so the index range starts at the cursor
      // instead of filtering every row before it (Prisma cannot write `(occurred_at, id) < (…)`).
      const upTo = after ? new Date(Math.min(new Date(after.o).getTime(), to?.getTime() ?? Infinity)) : to
      const where: Prisma.JournalEntryWhereInput = {
        userId,
        occurredAt: { gte: from, lte: upTo },
        mood: { gte: query.moodMin, lte: query.moodMax },
        tags: query.tag ? { hasEvery: query.tag } : undefined,
        emotions: query.emotion ? { hasEvery: query.emotion } : undefined,
        conflictResponse: query.conflictResponse ? { in: query.conflictResponse } : undefined,
        OR: after ? [{ occurredAt: { lt: new Date(after.o) } }, { occurredAt: new Date(after.o), id: { lt: after.i } }] : undefined,
      }
      const rows = await prisma.journalEntry.findMany({ where, orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }], take: query.limit + 1 })
      return toPage(rows, query.limit, (row) => toEntry(keyring, row), (row) => ({ o: row.occurredAt.toISOString(), i: row.id }))
    },

    /**
     * Changes an entry and re-seals all its text with the current key. Compare-and-swap on the row's
     * revision: an edit or a key rotation that lands in between is never overwritten; we re-read and retry.
     * @throws NotFoundError when the user has no such entry
     * @throws ConflictError when the entry keeps changing under us
     */
    async update(userId: string, id: string, changes: UpdateJournalEntry): Promise<JournalEntry> {
      for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        const row = await findOwned(userId, id)
        const content = applyChanges(toContent(keyring, row), changes)
        try {
          const updated = await prisma.journalEntry.update({
            where: { id, userId, revision: row.revision },
            data: { ...toColumns(keyring, id, userId, content), revision: { increment: 1 } },
          })
          return toEntry(keyring, updated)
        } catch (error) {
          if (!isRecordNotFound(error)) throw error
        }
      }
      throw new ConflictError('The entry was changed by another request at the same time; fetch it and try again.', 'concurrent_update')
    },

    /** @throws NotFoundError when the user has no such entry */
    async delete(userId: string, id: string): Promise<void> {
      const deleted = await prisma.journalEntry.deleteMany({ where: { id, userId } })
      if (deleted.count === 0) throw new NotFoundError('journal entry', id)
    },

    /** Every entry of the user, decrypted, newest first: their section of `GET /v1/me/export`. */
    async exportAll(userId: string): Promise<JournalEntry[]> {
      const rows = await prisma.journalEntry.findMany({ where: { userId }, orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }] })
      return rows.map((row) => toEntry(keyring, row))
    },
  }
}
