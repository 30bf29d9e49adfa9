import type { FastifyRequest } from 'fastify'
import type { Prisma, PrismaClient } from '../generated/prisma/client.js'
import { sha256Hex } from './hash.js'
import { currentWriteHook } from './write-hook.js'

/**
 * The access trail: who read, created, changed, exported or deleted a user's account, assessments and
 * journal, and when. Every feature records through this file, in the transaction that does the work:
 *
 * - writes: the record is inserted in the write's own transaction, so there is no write without its
 *   record and no record of a write that rolled back;
 * - reads: the read's query and the record's insert run in one transaction that commits before the
 *   data reaches the application (`withTrail`), so no data leaves the database without a committed
 *   record, and a read that fails later (decryption, serialisation, a dropped connection) is still on it.
 *
 * A record names the principal, the action, the resource type and id, the request id and, for lists
 * and sweeps, how many items: never any content. The database chains each user's records (a trigger
 * computes `seq`, `prev_hash` and `hash`, see the privacy migration) and refuses to change or delete
 * them; `npm run audit:verify` (verifyAccessChains) recomputes the chains.
 */

export const TRAIL_ACTIONS = ['read', 'create', 'update', 'delete', 'export'] as const
export type TrailAction = (typeof TRAIL_ACTIONS)[number]

export const TRAIL_RESOURCES = [
  'account',
  'session',
  'settings',
  'access_log',
  'assessment',
  'assessments',
  'journal_entry',
  'journal_entries',
  'journal_insights',
] as const
export type TrailResource = (typeof TRAIL_RESOURCES)[number]

export const PRINCIPAL_KINDS = ['user', 'issuer', 'client', 'operator', 'system'] as const
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number]

/**
 * Who acted: the user with a Therapath token (`user`, no id: the chain is theirs), the user through a
 * trusted issuer's token (`issuer`, its issuer string), an app (`client`, its client id), an operator
 * command (`operator`, the command) or a scheduled task (`system`, its name).
 */
export type TrailPrincipal = { kind: 'user' } | { kind: Exclude<PrincipalKind, 'user'>; id: string }

export interface Actor {
  principal: TrailPrincipal
  /** The request's id (`x-request-id`), or null outside a request. */
  requestId: string | null
}

/** One thing done to one user's data. */
export interface TrailEvent {
  userId: string
  action: TrailAction
  resourceType: TrailResource
  /** The item's id; null for a collection (a list, insights, the export). */
  resourceId?: string | null
  /** Items a list returned or a sweep deleted. */
  itemCount?: number | null
}

/** The caller of a request, as the trail names it. Only for routes behind the auth guard. */
export function actorOf(request: FastifyRequest): Actor {
  const principal = request.principal
  const requestId = request.id
  if (principal?.kind === 'client') return { principal: { kind: 'client', id: principal.clientId }, requestId }
  if (principal?.kind === 'user' && principal.issuer !== undefined) return { principal: { kind: 'issuer', id: principal.issuer }, requestId }
  return { principal: { kind: 'user' }, requestId }
}

/** The actor of a request that has no principal yet (sign-up, sign-in, sign-out): the user themself. */
export const selfActor = (request: Pick<FastifyRequest, 'id'>): Actor => ({ principal: { kind: 'user' }, requestId: request.id })

export const operatorActor = (command: string): Actor => ({ principal: { kind: 'operator', id: command }, requestId: null })
export const systemActor = (task: string): Actor => ({ principal: { kind: 'system', id: task }, requestId: null })

type TrailTx = Pick<Prisma.TransactionClient, 'accessRecord'>
export type TrailClient = Pick<PrismaClient, '$transaction'>

function rowOf(actor: Actor, event: TrailEvent): Prisma.AccessRecordCreateManyInput {
  return {
    chain: event.userId,
    userId: event.userId,
    principalKind: actor.principal.kind,
    principalId: actor.principal.kind === 'user' ? null : actor.principal.id,
    action: event.action,
    resourceType: event.resourceType,
    resourceId: event.resourceId ?? null,
    itemCount: event.itemCount ?? null,
    requestId: actor.requestId,
  }
}

const isList = (events: TrailEvent | readonly TrailEvent[]): events is readonly TrailEvent[] => Array.isArray(events)

/**
 * Inserts records inside the caller's transaction. Call it last in the transaction, after the data
 * statements: the insert locks the user's chain head until commit.
 */
export async function record(tx: TrailTx, actor: Actor, events: TrailEvent | readonly TrailEvent[]): Promise<void> {
  const list: readonly TrailEvent[] = isList(events) ? events : [events]
  if (list.length === 0) return
  await tx.accessRecord.createMany({ data: list.map((event) => rowOf(actor, event)) })
}

/**
 * Runs `work` and records what `events` says it did, in one transaction: for reads and writes alike.
 * `work` throwing (e.g. not found) rolls back and records nothing; `events` returning null records nothing.
 */
export async function withTrail<T>(
  prisma: TrailClient,
  actor: Actor,
  work: (tx: Prisma.TransactionClient) => Promise<T>,
  events: (result: T) => TrailEvent | readonly TrailEvent[] | null,
): Promise<T> {
  return prisma.$transaction(async (tx) => {
    const result = await work(tx)
    const happened = events(result)
    if (happened !== null) await record(tx, actor, happened)
    // E.g. the request's Idempotency-Key: it commits with this write or not at all.
    const hook = currentWriteHook()
    if (hook && happened !== null) await hook(tx, isList(happened) ? happened : [happened])
    return result
  })
}

/**
 * Records in a transaction of their own, committed before the caller goes on: for reads made of
 * several queries that cannot share one transaction (insights, the export). A read that fails after
 * this is still on the trail, as an attempt.
 */
export async function recordNow(prisma: TrailClient, actor: Actor, events: TrailEvent | readonly TrailEvent[]): Promise<void> {
  await prisma.$transaction(async (tx) => record(tx, actor, events))
}

/** The record of an account's deletion is kept under this chain, which names no one without the user's id. */
export const erasedChain = (userId: string): string => `erased:${sha256Hex(`therapath erased account\n${userId.toLowerCase()}`)}`

/** What the hash of a record covers; the same string as `access_record_canonical` in SQL. */
export interface ChainedRecord {
  id: string
  chain: string
  seq: bigint
  userId: string | null
  at: Date
  principalKind: string
  principalId: string | null
  action: string
  resourceType: string
  resourceId: string | null
  itemCount: number | null
  requestId: string | null
}

export function canonicalRecord(r: ChainedRecord): string {
  const fields = [
    r.id,
    r.chain,
    r.seq.toString(),
    r.userId,
    r.at.getTime().toString(),
    r.principalKind,
    r.principalId,
    r.action,
    r.resourceType,
    r.resourceId,
    r.itemCount === null ? null : r.itemCount.toString(),
    r.requestId,
  ]
  return fields.map((field) => (field === null ? '~' : `${Buffer.byteLength(field, 'utf8')}:${field}`)).join('|')
}

export const GENESIS_HASH = '0'.repeat(64)

/** The hash of a record that follows `prevHash` in its chain. */
export const recordHash = (prevHash: string, r: ChainedRecord): string => sha256Hex(`${prevHash}|${canonicalRecord(r)}`)
