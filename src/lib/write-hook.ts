import { AsyncLocalStorage } from 'node:async_hooks'
import type { Prisma } from '../generated/prisma/client.js'

/**
 * Work that must commit in the same transaction as a request's write: the Idempotency-Key's stored
 * response (src/plugins/idempotency). A plugin runs the route handler inside `runWithWriteHook`; every
 * write goes through `withTrail`, which calls the hook last in its transaction with what was written.
 * A hook that throws rolls the write back.
 */
export type WriteHook = (tx: Prisma.TransactionClient, events: readonly WrittenEvent[]) => Promise<void>

/** What a write did, as its access-trail event says it (src/lib/access-trail.ts `TrailEvent`). */
export interface WrittenEvent {
  action: string
  resourceId?: string | null
}

const storage = new AsyncLocalStorage<WriteHook>()

export const runWithWriteHook = <T>(hook: WriteHook, work: () => T): T => storage.run(hook, work)

/** The hook of the request being handled, if it set one. */
export const currentWriteHook = (): WriteHook | undefined => storage.getStore()
