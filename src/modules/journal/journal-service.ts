import { randomUUID } from 'node:crypto'
import type { JournalEntry as JournalEntryRow, Prisma, PrismaClient } from '../../generated/prisma/client.js'
import { z } from 'zod'
import { type Actor, withTrail } from '../../lib/access-trail.js'
import type { CrisisResource } from '../../lib/crisis-resources.js'
import type { SafetyBlock } from '../../lib/safety.js'
import { resolveRange } from '../../lib/date-range.js'
import { isRecordNotFound } from '../../lib/db-errors.js'
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../../lib/errors.js'
import { cursorInstant, decodeCursor, toPage } from '../../lib/pagination.js'
import type { JournalKeyring } from './journal-crypto.js'
import { applyChanges, fromInput, readContent, toColumns, toShownEntry } from './journal-codec.js'
import { CONFLICT_FIELDS } from './journal-fields.js'
import { journalSafety, screenEntry } from './journal-safety.js'
import type { CreateJournalEntry, JournalEntry, ListEntriesQuery, UpdateJournalEntry } from './journal-schemas.js'

/** What a create or update answers: the entry and its safety block. */
export type WrittenJournalEntry = JournalEntry & { safety: SafetyBlock }

/** The list's sort key: newest `occurredAt` first, then id, so equal times still have one order. */
const CursorSchema = z.object({ o: cursorInstant(), i: z.uuid() })

/** Edits retry this often when another write to the same entry lands between their read and write. */
const WRITE_ATTEMPTS = 3

export interface JournalServiceDeps {
  prisma: Pick<PrismaClient, 'journalEntry' | '$transaction'>
  keyring: JournalKeyring
  /** Crisis resources for the safety block (CRISIS_RESOURCES). */
  resources: readonly CrisisResource[]
  /** Where an entry that cannot be decrypted is reported (once per entry and process). */
  log?: { error(details: object, message: string): void }
}

/** Entries already reported as unreadable, so a user paging through their journal logs each once. */
const REPORTED_LIMIT = 10_000

type EntryReader = Pick<Prisma.TransactionClient, 'journalEntry'>

/**
 * Journal entries for their owner. Every query carries the owner's id, so another user's entry is
 * never loaded: it is "not found", whatever the verb. Text is sealed before it reaches Prisma and
 * opened only on the way out.
 */
export function createJournalService({ prisma, keyring, resources, log }: JournalServiceDeps) {
  const reported = new Set<string>()

  /** The entry as shown: whole, or marked unreadable (and logged once, with ids and the reason only). */
  function shown(row: JournalEntryRow): JournalEntry {
    const { entry, read } = toShownEntry(keyring, row)
    if (read.code !== null && !reported.has(row.id)) {
      if (reported.size >= REPORTED_LIMIT) reported.clear()
      reported.add(row.id)
      log?.error({ entryId: row.id, keyId: row.keyId, code: read.code, fields: read.unreadable, reason: read.error?.message }, 'journal entry cannot be decrypted; served marked unreadable')
    }
    return entry
  }

  async function findOwned(db: EntryReader, userId: string, id: string): Promise<JournalEntryRow> {
    const row = await db.journalEntry.findFirst({ where: { id, userId } })
    if (!row) throw new NotFoundError('journal entry', id)
    return row
  }

  /** Reads the user's entry and records the read in the same transaction (nothing recorded when it is not theirs). */
  const readOwned = (userId: string, id: string, actor: Actor) =>
    withTrail(prisma, actor, (tx) => findOwned(tx, userId, id), () => ({ userId, action: 'read', resourceType: 'journal_entry', resourceId: id }))

  const written = (row: JournalEntryRow): WrittenJournalEntry => ({ ...shown(row), safety: journalSafety(row.crisisFlag, resources) })

  /**
   * `update`, and the new revision. With `precondition`, only over the revision it accepts (`If-Match`):
   * checked on the row each attempt reads, and the write is a compare-and-swap on that row's revision,
   * so a change in between is never overwritten.
   * @throws PreconditionFailedError when the entry's revision is not the one the caller named
   */
  async function updateVersioned(
    userId: string,
    id: string,
    changes: UpdateJournalEntry,
    actor: Actor,
    precondition?: (revision: number) => boolean,
  ): Promise<{ entry: WrittenJournalEntry; revision: number }> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const row = await findOwned(prisma, userId, id)
      if (precondition && !precondition(row.revision)) throw new PreconditionFailedError()
      const current = readContent(keyring, row)
      // Text that cannot be decrypted can be replaced, never kept: the edit must give each such field.
      const missing = current.unreadable.filter((name) =>
        CONFLICT_FIELDS.some((field) => field.name === name) ? changes.conflict !== null && changes.conflict?.[name as keyof NonNullable<UpdateJournalEntry['conflict']>] === undefined : changes[name as keyof UpdateJournalEntry] === undefined,
      )
      if (missing.length > 0) {
        throw new ConflictError(
          `The entry's ${missing.join(', ')} cannot be decrypted (${current.code ?? 'unreadable'}); send new values for ${missing.length === 1 ? 'it' : 'them'} in the same PATCH, or delete the entry.`,
          'journal_entry_unreadable',
        )
      }
      const content = applyChanges(current.content, changes)
      // The whole text as it will be, screened again: an edit can add crisis language or take it out.
      const crisisFlag = screenEntry(content)
      try {
        const updated = await withTrail(
          prisma,
          actor,
          (tx) =>
            tx.journalEntry.update({
              where: { id, userId, revision: row.revision },
              data: { ...toColumns(keyring, id, userId, content), crisisFlag, revision: { increment: 1 } },
            }),
          () => ({ userId, action: 'update', resourceType: 'journal_entry', resourceId: id }),
        )
        return { entry: written(updated), revision: updated.revision }
      } catch (error) {
        if (!isRecordNotFound(error)) throw error
      }
    }
    throw new ConflictError('The entry was changed by another request at the same time; fetch it and try again.', 'concurrent_update')
  }

  return {
    /** Stores a new entry; its text is screened for crisis language in memory first, and only the flag is kept. */
    async create(userId: string, input: CreateJournalEntry, actor: Actor): Promise<WrittenJournalEntry> {
      const id = randomUUID()
      const content = fromInput(input, new Date())
      const crisisFlag = screenEntry(content)
      const row = await withTrail(
        prisma,
        actor,
        (tx) => tx.journalEntry.create({ data: { id, userId, crisisFlag, ...toColumns(keyring, id, userId, content) } }),
        () => ({ userId, action: 'create', resourceType: 'journal_entry', resourceId: id }),
      )
      return written(row)
    },

    async get(userId: string, id: string, actor: Actor): Promise<JournalEntry> {
      return shown(await readOwned(userId, id, actor))
    },

    /** The entry and its revision, which every write (and a key rotation) increments: the source of its ETag. */
    async getVersioned(userId: string, id: string, actor: Actor): Promise<{ entry: JournalEntry; revision: number }> {
      const row = await readOwned(userId, id, actor)
      return { entry: shown(row), revision: row.revision }
    },

    /** The entry as a create answered it (with its safety block, from the stored flag): what an idempotent retry gets. */
    async getWritten(userId: string, id: string, actor: Actor): Promise<WrittenJournalEntry> {
      return written(await readOwned(userId, id, actor))
    },

    /**
     * One page of the user's entries, newest first. Keyset pagination on (occurredAt, id): entries
     * added or edited between pages neither repeat nor push others out of the pages still to come.
     * @throws ValidationError for a range or mood bounds that contradict themselves
     */
    async list(userId: string, query: ListEntriesQuery, actor: Actor) {
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
      const rows = await withTrail(
        prisma,
        actor,
        (tx) => tx.journalEntry.findMany({ where, orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }], take: query.limit + 1 }),
        (found) => ({ userId, action: 'read', resourceType: 'journal_entries', itemCount: Math.min(found.length, query.limit) }),
      )
      return toPage(rows, query.limit, shown, (row) => ({ o: row.occurredAt.toISOString(), i: row.id }))
    },

    /**
     * Changes an entry and re-seals all its text with the current key. Compare-and-swap on the row's
     * revision: an edit or a key rotation that lands in between is never overwritten; we re-read and retry.
     * @throws NotFoundError when the user has no such entry
     * @throws ConflictError when the entry keeps changing under us
     */
    async update(userId: string, id: string, changes: UpdateJournalEntry, actor: Actor): Promise<WrittenJournalEntry> {
      return (await updateVersioned(userId, id, changes, actor)).entry
    },

    updateVersioned,

    /** @throws NotFoundError when the user has no such entry */
    async delete(userId: string, id: string, actor: Actor, precondition?: (revision: number) => boolean): Promise<void> {
      await withTrail(
        prisma,
        actor,
        async (tx) => {
          if (precondition) {
            // Deleted only at the revision the caller named: read it, then delete only that revision.
            const row = await findOwned(tx, userId, id)
            if (!precondition(row.revision)) throw new PreconditionFailedError()
            const deleted = await tx.journalEntry.deleteMany({ where: { id, userId, revision: row.revision } })
            if (deleted.count === 0) throw new PreconditionFailedError()
            return
          }
          const deleted = await tx.journalEntry.deleteMany({ where: { id, userId } })
          if (deleted.count === 0) throw new NotFoundError('journal entry', id)
        },
        () => ({ userId, action: 'delete', resourceType: 'journal_entry', resourceId: id }),
      )
    },

    /** The access log's words for entries: each one's date, nothing it says. */
    async labels(userId: string, ids: readonly string[]) {
      const rows = await prisma.journalEntry.findMany({ where: { userId, id: { in: [...ids] } }, select: { id: true, occurredAt: true } })
      return new Map(rows.map((row) => [row.id, { date: row.occurredAt }]))
    },

    /** Every entry of the user, decrypted, newest first: their section of `GET /v1/me/export` (which records the export). */
    async exportAll(userId: string): Promise<JournalEntry[]> {
      const rows = await prisma.journalEntry.findMany({ where: { userId }, orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }] })
      return rows.map(shown)
    },
  }
}
