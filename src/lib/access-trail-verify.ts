import type { PrismaClient } from '../generated/prisma/client.js'
import { GENESIS_HASH, recordHash } from './access-trail.js'

/**
 * Checks every access-trail chain: each record's hash is recomputed from its columns and the previous
 * record's hash, seq numbers run 1, 2, 3… without a gap, and the chain's last record is the head the
 * database holds for it. An edited row breaks its own hash; a deleted row leaves a gap (or, at the end,
 * a head that names a record no longer there); a row moved between chains breaks its hash (the chain
 * is hashed in). What this cannot see: someone with the database owner's rights who rewrites a whole
 * chain's tail and its head consistently (the README says how to anchor heads outside the database).
 */

export interface ChainProblem {
  chain: string
  seq: string
  problem: 'hash_mismatch' | 'broken_link' | 'gap' | 'head_mismatch' | 'missing_head'
}

export interface VerifyReport {
  chains: number
  records: number
  problems: ChainProblem[]
}

const BATCH = 5000

/** Reads the trail in (chain, seq) order, a batch at a time, and checks it. */
export async function verifyAccessChains(prisma: Pick<PrismaClient, 'accessRecord' | 'accessChain'>): Promise<VerifyReport> {
  const problems: ChainProblem[] = []
  const heads = new Map((await prisma.accessChain.findMany()).map((head) => [head.chain, head]))
  const seen = new Set<string>()
  let records = 0
  let current: { chain: string; seq: bigint; hash: string } | undefined
  const closeChain = () => {
    if (!current) return
    const head = heads.get(current.chain)
    if (!head) problems.push({ chain: current.chain, seq: current.seq.toString(), problem: 'missing_head' })
    else if (head.seq !== current.seq || head.head !== current.hash) problems.push({ chain: current.chain, seq: head.seq.toString(), problem: 'head_mismatch' })
  }
  let after: { chain: string; seq: bigint } | undefined
  for (;;) {
    const rows = await prisma.accessRecord.findMany({
      where: after ? { OR: [{ chain: { gt: after.chain } }, { chain: after.chain, seq: { gt: after.seq } }] } : undefined,
      orderBy: [{ chain: 'asc' }, { seq: 'asc' }],
      take: BATCH,
    })
    for (const row of rows) {
      records += 1
      if (current?.chain !== row.chain) {
        closeChain()
        seen.add(row.chain)
        current = { chain: row.chain, seq: 0n, hash: GENESIS_HASH }
      }
      if (row.seq !== current.seq + 1n) problems.push({ chain: row.chain, seq: row.seq.toString(), problem: 'gap' })
      if (row.prevHash !== current.hash) problems.push({ chain: row.chain, seq: row.seq.toString(), problem: 'broken_link' })
      if (recordHash(row.prevHash, row) !== row.hash) problems.push({ chain: row.chain, seq: row.seq.toString(), problem: 'hash_mismatch' })
      current = { chain: row.chain, seq: row.seq, hash: row.hash }
    }
    const last = rows.at(-1)
    if (!last || rows.length < BATCH) break
    after = { chain: last.chain, seq: last.seq }
  }
  closeChain()
  // A head whose every record is gone.
  for (const head of heads.values()) {
    if (!seen.has(head.chain) && head.seq > 0n) problems.push({ chain: head.chain, seq: head.seq.toString(), problem: 'head_mismatch' })
  }
  return { chains: seen.size, records, problems }
}
