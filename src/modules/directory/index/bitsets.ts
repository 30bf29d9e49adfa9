import { BITSET_KERNEL_WASM } from './bitset-kernel.js'

/**
 * Bitsets over the directory's slots (one bit per therapist), for filtering and facet counting.
 *
 * All of them live in one WebAssembly memory so that the hot loops (AND/OR of two sets, and the
 * popcount of a set AND each term of a facet) run as the small kernels in bitset-kernel.wat: 64-bit
 * words and the CPU's popcount, about 3x faster than the same loops over Uint32Arrays in JavaScript
 * (0.55 ms against 4.5 ms for 60 facet terms at a million slots, measured on this project's 2-core box).
 * roaring-wasm was tried first: 100 ms for the same 60 AND-counts.
 *
 * A bitset is a handle (its row in the store). Every operation takes a word range [from, to) of
 * 64-bit words, so a search can restrict its work to the part of the slots it touches.
 */

interface Kernel {
  and(dst: number, a: number, b: number, from: number, to: number): void
  or(dst: number, a: number, b: number, from: number, to: number): void
  andNot(dst: number, a: number, b: number, from: number, to: number): void
  andCount(a: number, b: number, from: number, to: number): number
  countMany(mask: number, terms: number, n: number, from: number, to: number, out: number): void
  nonZeroBlocks(a: number, from: number, to: number, out: number): number
  countManyBlocks(mask: number, terms: number, n: number, blocks: number, nblocks: number, to: number, out: number): void
  firstNonZero(a: number, from: number, to: number): number
  endNonZero(a: number, from: number, to: number): number
}

/** The part of the WebAssembly API used here (Node has it; its types come with the DOM library, not loaded here). */
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: unknown }
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

const PAGE_BYTES = 65536
/**
 * Bytes at the start of the memory for countMany's arguments: term offsets, then counts (a page
 * each), then the list of a mask's non-zero blocks (the rest).
 */
const HEADER_BYTES = 16 * PAGE_BYTES
const MAX_TERMS_PER_CALL = PAGE_BYTES / 4
const COUNTS_AT = PAGE_BYTES
const BLOCKS_AT = 2 * PAGE_BYTES
/** Words per block of nonZeroBlocks: 512 slots. */
const BLOCK_WORDS = 8

let compiled: object | undefined

/** Slots per bitset are a multiple of this (one 64-bit word). */
export const SLOT_ALIGN = 64

export class BitsetStore {
  /** Slots each bitset holds. */
  capacity: number
  private readonly memory: WasmMemory
  private readonly kernel: Kernel
  /** Bytes per bitset. */
  private stride: number
  private u32: Uint32Array
  private rows = 0
  private readonly free: number[] = []

  constructor(capacity: number) {
    this.capacity = alignCapacity(capacity)
    this.stride = this.capacity / 8
    this.memory = new wasm.Memory({ initial: Math.ceil(HEADER_BYTES / PAGE_BYTES) + 1 })
    compiled ??= new wasm.Module(Buffer.from(BITSET_KERNEL_WASM, 'base64'))
    this.kernel = new wasm.Instance(compiled, { env: { memory: this.memory } }).exports as Kernel
    this.u32 = new Uint32Array(this.memory.buffer)
  }

  /** 64-bit words per bitset. */
  get words(): number {
    return this.capacity / 64
  }

  /** Bytes the store holds (allocated bitsets and the free ones kept for reuse). */
  get bytes(): number {
    return this.memory.buffer.byteLength
  }

  /** A new empty bitset. */
  alloc(): number {
    const reused = this.free.pop()
    if (reused !== undefined) {
      this.u32.fill(0, this.base32(reused), this.base32(reused) + this.stride / 4)
      return reused
    }
    const row = this.rows
    this.ensureBytes(HEADER_BYTES + (row + 1) * this.stride)
    this.rows += 1
    return row
  }

  release(handle: number): void {
    this.free.push(handle)
  }

  /** Makes every bitset hold at least `capacity` slots, keeping their bits. */
  grow(capacity: number): void {
    const next = alignCapacity(capacity)
    if (next <= this.capacity) return
    const oldStride = this.stride
    const newStride = next / 8
    this.ensureBytes(HEADER_BYTES + this.rows * newStride)
    const bytes = new Uint8Array(this.memory.buffer)
    // From the last row down, so no row is overwritten before it has moved.
    for (let row = this.rows - 1; row >= 0; row -= 1) {
      const from = HEADER_BYTES + row * oldStride
      const to = HEADER_BYTES + row * newStride
      bytes.copyWithin(to, from, from + oldStride)
      bytes.fill(0, to + oldStride, to + newStride)
    }
    this.stride = newStride
    this.capacity = next
  }

  set(handle: number, slot: number): void {
    const i = this.base32(handle) + (slot >>> 5)
    this.u32[i] = (this.u32[i] ?? 0) | (1 << (slot & 31))
  }

  clear(handle: number, slot: number): void {
    const i = this.base32(handle) + (slot >>> 5)
    this.u32[i] = (this.u32[i] ?? 0) & ~(1 << (slot & 31))
  }

  has(handle: number, slot: number): boolean {
    return ((this.u32[this.base32(handle) + (slot >>> 5)] ?? 0) & (1 << (slot & 31))) !== 0
  }

  /**
   * The 32-bit words of a bitset, for loops that set many bits (bit `slot` is word `base + slot >>> 5`,
   * bit `slot & 31`). Valid until the store next allocates or grows.
   */
  view(handle: number): { words: Uint32Array; base: number } {
    return { words: this.u32, base: this.base32(handle) }
  }

  /** Clears words [from, to). */
  zero(handle: number, from = 0, to = this.words): void {
    const base = this.base32(handle)
    this.u32.fill(0, base + 2 * from, base + 2 * to)
  }

  /** Sets every slot below `end` (and clears the rest of the range). */
  fillTo(handle: number, end: number): void {
    const base = this.base32(handle)
    const full = end >>> 5
    this.u32.fill(0xffffffff, base, base + full)
    this.u32.fill(0, base + full, base + this.stride / 4)
    if ((end & 31) !== 0) this.u32[base + full] = (1 << (end & 31)) - 1
  }

  copy(dst: number, src: number, from = 0, to = this.words): void {
    const s = this.base32(src)
    this.u32.copyWithin(this.base32(dst) + 2 * from, s + 2 * from, s + 2 * to)
  }

  and(dst: number, a: number, b: number, from = 0, to = this.words): void {
    this.kernel.and(this.offset(dst), this.offset(a), this.offset(b), from, to)
  }

  or(dst: number, a: number, b: number, from = 0, to = this.words): void {
    this.kernel.or(this.offset(dst), this.offset(a), this.offset(b), from, to)
  }

  /** dst = a AND NOT b */
  andNot(dst: number, a: number, b: number, from = 0, to = this.words): void {
    this.kernel.andNot(this.offset(dst), this.offset(a), this.offset(b), from, to)
  }

  count(handle: number, from = 0, to = this.words): number {
    return this.kernel.andCount(this.offset(handle), this.offset(handle), from, to)
  }

  andCount(a: number, b: number, from = 0, to = this.words): number {
    return this.kernel.andCount(this.offset(a), this.offset(b), from, to)
  }

  /**
   * For each bitset in `terms`, the number of slots it shares with `mask` within words [from, to).
   * When most 512-slot blocks of the mask are empty (a radius, a city), only the others are read.
   */
  countMany(mask: number, terms: readonly number[], from = 0, to = this.words): number[] {
    if (terms.length === 0) return []
    const maxBlocks = (HEADER_BYTES - BLOCKS_AT) / 4
    const blocks = Math.ceil((to - from) / BLOCK_WORDS) <= maxBlocks ? this.kernel.nonZeroBlocks(this.offset(mask), from, to, BLOCKS_AT) : -1
    const sparse = blocks >= 0 && blocks * BLOCK_WORDS * 2 < to - from
    const counts: number[] = []
    for (let start = 0; start < terms.length; start += MAX_TERMS_PER_CALL) {
      const batch = terms.slice(start, start + MAX_TERMS_PER_CALL)
      const args = new Int32Array(this.memory.buffer, 0, batch.length)
      batch.forEach((handle, i) => (args[i] = this.offset(handle)))
      if (sparse) this.kernel.countManyBlocks(this.offset(mask), 0, batch.length, BLOCKS_AT, blocks, to, COUNTS_AT)
      else this.kernel.countMany(this.offset(mask), 0, batch.length, from, to, COUNTS_AT)
      counts.push(...new Int32Array(this.memory.buffer, COUNTS_AT, batch.length))
    }
    return counts
  }

  /** The smallest word range [lo, hi) within [from, to) that holds every set bit (lo = hi when none). */
  span(handle: number, from = 0, to = this.words): [number, number] {
    const offset = this.offset(handle)
    const lo = this.kernel.firstNonZero(offset, from, to)
    return lo >= to ? [to, to] : [lo, this.kernel.endNonZero(offset, lo, to)]
  }

  /** Calls `visit` for each set slot in words [from, to), in slot order; stops when it returns false. */
  forEach(handle: number, visit: (slot: number) => boolean | void, from = 0, to = this.words): void {
    const base = this.base32(handle)
    const u32 = this.u32
    for (let w = 2 * from; w < 2 * to; w += 1) {
      let word = u32[base + w] ?? 0
      while (word !== 0) {
        const low = word & -word
        if (visit(w * 32 + 31 - Math.clz32(low)) === false) return
        word ^= low
      }
    }
  }

  private offset(handle: number): number {
    return HEADER_BYTES + handle * this.stride
  }

  private base32(handle: number): number {
    return (HEADER_BYTES + handle * this.stride) >>> 2
  }

  private ensureBytes(bytes: number): void {
    const missing = bytes - this.memory.buffer.byteLength
    if (missing > 0) {
      // Grow by at least a quarter, so growth is amortized.
      this.memory.grow(Math.max(Math.ceil(missing / PAGE_BYTES), Math.ceil(this.memory.buffer.byteLength / PAGE_BYTES / 4)))
      this.u32 = new Uint32Array(this.memory.buffer)
    }
  }
}

function alignCapacity(capacity: number): number {
  return Math.max(SLOT_ALIGN, Math.ceil(capacity / SLOT_ALIGN) * SLOT_ALIGN)
}

const EMPTY = new Int32Array(0)

/**
 * The slots that have one term (a modality, a state, a word of the bios, …): a sorted array of slots
 * while few have it, a bitset once it would be smaller than the array (a thirty-second of the
 * slots). Rare terms (most names and words) stay arrays; common ones (CBT, "therapy") are bitsets.
 */
export class TermSet {
  /** The bitset handle once dense, else -1. */
  dense = -1
  private slots: Int32Array = EMPTY
  private length = 0
  /** False while a bulk load appends slots out of order; `seal` sorts them. */
  private sorted = true

  /** @param dense a bitset from the start (facet terms: counted with the kernel, never element by element) */
  constructor(
    private readonly store: BitsetStore,
    dense = false,
  ) {
    if (dense) this.dense = store.alloc()
  }

  get size(): number {
    return this.dense >= 0 ? this.store.count(this.dense) : this.length
  }

  has(slot: number): boolean {
    if (this.dense >= 0) return this.store.has(this.dense, slot)
    return this.indexOf(slot) >= 0
  }

  /** Adds a slot (kept in order: for live updates). */
  add(slot: number): void {
    if (this.dense >= 0) return this.store.set(this.dense, slot)
    const at = this.insertionPoint(slot)
    if (this.slots[at] === slot && at < this.length) return
    this.reserve(this.length + 1)
    this.slots.copyWithin(at + 1, at, this.length)
    this.slots[at] = slot
    this.length += 1
    this.densifyIfLarge()
  }

  /** Adds a slot without keeping order (bulk load); call `seal` after the last one. */
  append(slot: number): void {
    if (this.dense >= 0) return this.store.set(this.dense, slot)
    // The same slot twice in a row (a term listed twice) is kept once: `seal` only dedupes what it sorts.
    if (this.length > 0 && this.slots[this.length - 1] === slot) return
    this.reserve(this.length + 1)
    if (this.length > 0 && (this.slots[this.length - 1] ?? 0) > slot) this.sorted = false
    this.slots[this.length] = slot
    this.length += 1
    this.densifyIfLarge()
  }

  remove(slot: number): void {
    if (this.dense >= 0) return this.store.clear(this.dense, slot)
    const at = this.indexOf(slot)
    if (at < 0) return
    this.slots.copyWithin(at, at + 1, this.length)
    this.length -= 1
  }

  seal(): void {
    if (this.dense >= 0) return
    // What growth by doubling reserved beyond the slots: given back after a bulk load.
    if (this.slots.length > this.length + (this.length >> 2) + 4) this.slots = this.slots.slice(0, this.length)
    if (this.sorted) return
    const sorted = this.slots.subarray(0, this.length).sort()
    let kept = 0
    for (let i = 0; i < sorted.length; i += 1) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[kept++] = sorted[i] ?? 0
    this.length = kept
    this.sorted = true
  }

  /** dst = dst OR this, over words [from, to). */
  orInto(dst: number, from = 0, to = this.store.words): void {
    if (this.dense >= 0) return this.store.or(dst, dst, this.dense, from, to)
    const lo = from * 64
    const hi = to * 64
    for (let i = 0; i < this.length; i += 1) {
      const slot = this.slots[i] ?? 0
      if (slot >= lo && slot < hi) this.store.set(dst, slot)
    }
  }

  /** dst = this (a copy as a bitset), over words [from, to). */
  copyInto(dst: number, from = 0, to = this.store.words): void {
    if (this.dense >= 0) return this.store.copy(dst, this.dense, from, to)
    this.store.zero(dst, from, to)
    this.orInto(dst, from, to)
  }

  /** Slots shared with the bitset `mask` within words [from, to). */
  countWith(mask: number, from = 0, to = this.store.words): number {
    if (this.dense >= 0) return this.store.andCount(this.dense, mask, from, to)
    let count = 0
    const lo = from * 64
    const hi = to * 64
    for (let i = 0; i < this.length; i += 1) {
      const slot = this.slots[i] ?? 0
      if (slot >= lo && slot < hi && this.store.has(mask, slot)) count += 1
    }
    return count
  }

  /** Bytes held outside the bitset store. */
  get arrayBytes(): number {
    return this.slots.byteLength
  }

  /** Each slot of a sparse set (a dense one visits nothing: its slots are in the store). */
  forEach(visit: (slot: number) => void): void {
    for (let i = 0; i < this.length; i += 1) visit(this.slots[i] ?? 0)
  }

  private densifyIfLarge(): void {
    // An array of 4-byte slots is bigger than the bitset from capacity/32 slots on.
    if (this.length * 32 < this.store.capacity) return
    this.dense = this.store.alloc()
    for (let i = 0; i < this.length; i += 1) this.store.set(this.dense, this.slots[i] ?? 0)
    this.slots = EMPTY
    this.length = 0
    this.sorted = true
  }

  private reserve(length: number): void {
    if (length <= this.slots.length) return
    const next = new Int32Array(Math.max(4, length, this.slots.length * 2))
    next.set(this.slots.subarray(0, this.length))
    this.slots = next
  }

  private insertionPoint(slot: number): number {
    let lo = 0
    let hi = this.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.slots[mid] ?? 0) < slot) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private indexOf(slot: number): number {
    if (!this.sorted) return this.slots.subarray(0, this.length).indexOf(slot)
    const at = this.insertionPoint(slot)
    return at < this.length && this.slots[at] === slot ? at : -1
  }
}
