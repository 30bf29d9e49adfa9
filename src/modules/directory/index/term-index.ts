import { type BitsetStore, TermSet } from './bitsets.js'

/**
 * Term → the slots that have it, for one kind of term (modalities, states, insurers, words of the
 * full text, …). A slot's terms can be replaced (a therapist was edited) without knowing what they
 * were: dense sets are few and clearing a bit in each is cheap; the sparse sets a slot joined are
 * remembered per slot when `trackSlots` is on (for kinds with many terms, such as words), and found
 * by looking in every set otherwise (kinds with a few dozen terms).
 */
export class TermIndex {
  private readonly ids = new Map<string, number>()
  private readonly keys: string[] = []
  private readonly sets: TermSet[] = []
  /** Ids of the sets that are bitsets (a set never goes back to an array until the next rebuild). */
  private readonly denseIds: number[] = []
  private sortedKeys: string[] | undefined
  // Per slot: the ids of the sparse sets it was added to, as a run in `pool` (trackSlots only).
  private slotStart = new Int32Array(0)
  private slotLength = new Uint16Array(0)
  private pool = new Int32Array(1024)
  private poolLength = 0
  private garbage = 0
  /** Postings were loaded by term (`appendSlots`): the per-slot lists are made at `seal`. */
  private bulkPostings = false

  /**
   * @param trackSlots remember per slot the sparse sets it joined (kinds with many terms)
   * @param dense every set a bitset from the start (facet terms, counted by the kernel)
   */
  constructor(
    private readonly store: BitsetStore,
    private readonly trackSlots: boolean,
    private readonly dense = false,
  ) {}

  get size(): number {
    return this.sets.length
  }

  get(key: string): TermSet | undefined {
    const id = this.ids.get(key)
    return id === undefined ? undefined : this.sets[id]
  }

  /** Every term's set, in first-seen order, with its key. */
  entries(): [string, TermSet][] {
    return this.keys.map((key, id) => [key, this.sets[id] as TermSet])
  }

  /** The sets of every term starting with `prefix` (for text prefix search). */
  withPrefix(prefix: string): TermSet[] {
    const sorted = (this.sortedKeys ??= [...this.keys].sort())
    let lo = 0
    let hi = sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((sorted[mid] ?? '') < prefix) lo = mid + 1
      else hi = mid
    }
    const sets: TermSet[] = []
    for (let i = lo; i < sorted.length && (sorted[i] ?? '').startsWith(prefix); i += 1) {
      const set = this.get(sorted[i] ?? '')
      if (set) sets.push(set)
    }
    return sets
  }

  /** Bulk load: a slot not seen before, with its terms (duplicates allowed). Call `seal` at the end. */
  append(slot: number, keys: readonly string[]): void {
    this.add(slot, keys, false)
  }

  /** Bulk load: slots not seen before that have `key` (a term's postings, as Postgres groups them). Call `seal` at the end. */
  appendSlots(key: string, slots: ArrayLike<number>): void {
    const id = this.idFor(key)
    const set = this.sets[id] as TermSet
    const wasDense = set.dense >= 0
    for (let i = 0; i < slots.length; i += 1) set.append(slots[i] ?? 0)
    if (!wasDense && set.dense >= 0) this.denseIds.push(id)
    this.bulkPostings = true
  }

  /** A live change: the slot's terms become `keys` (none: it leaves the index). */
  replace(slot: number, keys: readonly string[]): void {
    this.remove(slot)
    this.add(slot, keys, true)
  }

  remove(slot: number): void {
    for (const id of this.denseIds) this.sets[id]?.remove(slot)
    if (!this.trackSlots) {
      for (const set of this.sets) if (set.dense < 0) set.remove(slot)
      return
    }
    const length = this.slotLength[slot] ?? 0
    if (length === 0) return
    const start = this.slotStart[slot] ?? 0
    for (let i = start; i < start + length; i += 1) this.sets[this.pool[i] ?? 0]?.remove(slot)
    this.slotLength[slot] = 0
    this.garbage += length
  }

  /** Sorts what bulk loading appended out of order, and notes for each slot the sparse sets it is in. */
  seal(): void {
    for (const set of this.sets) set.seal()
    if (this.trackSlots && this.bulkPostings) this.rememberFromSets()
    this.bulkPostings = false
  }

  /** Bytes held outside the bitset store. */
  get arrayBytes(): number {
    let bytes = this.pool.byteLength + this.slotStart.byteLength + this.slotLength.byteLength
    for (const set of this.sets) bytes += set.arrayBytes
    return bytes
  }

  private add(slot: number, keys: readonly string[], ordered: boolean): void {
    const sparseIds: number[] = []
    for (const key of keys) {
      const id = this.idFor(key)
      const set = this.sets[id] as TermSet
      const wasDense = set.dense >= 0
      if (ordered) set.add(slot)
      else set.append(slot)
      if (!wasDense && set.dense >= 0) this.denseIds.push(id)
      if (!wasDense) sparseIds.push(id)
    }
    if (this.trackSlots && sparseIds.length > 0) this.remember(slot, sparseIds)
  }

  private idFor(key: string): number {
    let id = this.ids.get(key)
    if (id === undefined) {
      id = this.sets.length
      this.ids.set(key, id)
      this.keys.push(key)
      this.sets.push(new TermSet(this.store, this.dense))
      if (this.dense) this.denseIds.push(id)
      this.sortedKeys = undefined
    }
    return id
  }

  private remember(slot: number, ids: number[]): void {
    if (slot >= this.slotStart.length) {
      const length = Math.max(slot + 1, this.slotStart.length * 2, 1024)
      const start = new Int32Array(length)
      start.set(this.slotStart)
      const lengths = new Uint16Array(length)
      lengths.set(this.slotLength)
      this.slotStart = start
      this.slotLength = lengths
    }
    if (this.garbage > 1_000_000 && this.garbage * 2 > this.poolLength) this.compact()
    if (this.poolLength + ids.length > this.pool.length) {
      const pool = new Int32Array(Math.max(this.pool.length * 2, this.poolLength + ids.length))
      pool.set(this.pool.subarray(0, this.poolLength))
      this.pool = pool
    }
    this.slotStart[slot] = this.poolLength
    this.slotLength[slot] = ids.length
    this.pool.set(ids, this.poolLength)
    this.poolLength += ids.length
  }

  /** The per-slot lists from the sparse sets (two passes: count, then fill), after a bulk load by term. */
  private rememberFromSets(): void {
    let slots = 0
    for (const set of this.sets) if (set.dense < 0) set.forEach((slot) => (slots = Math.max(slots, slot + 1)))
    const lengths = new Uint16Array(Math.max(slots, this.slotLength.length))
    lengths.set(this.slotLength)
    for (const set of this.sets) if (set.dense < 0) set.forEach((slot) => (lengths[slot] = (lengths[slot] ?? 0) + 1))
    const starts = new Int32Array(lengths.length)
    let total = 0
    for (let slot = 0; slot < lengths.length; slot += 1) {
      starts[slot] = total
      total += lengths[slot] ?? 0
    }
    const pool = new Int32Array(Math.max(1024, total))
    const filled = new Uint16Array(lengths.length)
    // Runs remembered before (slots added one by one) come first.
    for (let slot = 0; slot < this.slotLength.length; slot += 1) {
      const length = this.slotLength[slot] ?? 0
      const from = this.slotStart[slot] ?? 0
      pool.set(this.pool.subarray(from, from + length), starts[slot] ?? 0)
      filled[slot] = length
    }
    this.sets.forEach((set, id) => {
      if (set.dense >= 0) return
      set.forEach((slot) => {
        pool[(starts[slot] ?? 0) + (filled[slot] ?? 0)] = id
        filled[slot] = (filled[slot] ?? 0) + 1
      })
    })
    this.slotStart = starts
    this.slotLength = lengths
    this.pool = pool
    this.poolLength = total
    this.garbage = 0
  }

  /** Drops the runs of replaced slots from the pool. */
  private compact(): void {
    const pool = new Int32Array(Math.max(1024, (this.poolLength - this.garbage) * 2))
    let length = 0
    for (let slot = 0; slot < this.slotStart.length; slot += 1) {
      const count = this.slotLength[slot] ?? 0
      if (count === 0) continue
      const start = this.slotStart[slot] ?? 0
      pool.set(this.pool.subarray(start, start + count), length)
      this.slotStart[slot] = length
      length += count
    }
    this.pool = pool
    this.poolLength = length
    this.garbage = 0
  }
}
