import { describe, expect, it } from 'vitest'
import { compileKernel } from '../../scripts/wasm-kernel.js'
import { BITSET_KERNEL_WASM } from '../../src/modules/directory/index/bitset-kernel.js'
import { BitsetStore, TermSet } from '../../src/modules/directory/index/bitsets.js'
import { TermIndex } from '../../src/modules/directory/index/term-index.js'
import { Random } from '../helpers/random.js'

/**
 * The directory index's sets against the plainest model there is (Set<number>), under random
 * operations: word ranges, growth, sparse sets turning into bitsets, bulk loads then live changes.
 * Each failure names its seed; the operations are replayable from it.
 */

const SEEDS = [1, 2, 3, 4]

/** The set slots of a bitset, in order (through forEach, checked against `has` separately). */
function members(store: BitsetStore, handle: number, from = 0, to = store.words): number[] {
  const out: number[] = []
  store.forEach(handle, (slot) => void out.push(slot), from, to)
  return out
}

const sorted = (set: Iterable<number>) => [...set].sort((a, b) => a - b)
const inWords = (slot: number, from: number, to: number) => slot >= from * 64 && slot < to * 64

describe('BitsetStore', () => {
  it.each(SEEDS.slice(0, 3))('agrees with a Set model under random operations over word ranges and growth (seed %i)', (seed) => {
    const r = new Random(seed)
    const store = new BitsetStore(r.pick([1, 63, 64, 65, 130, 700]))
    const model = new Map<number, Set<number>>()
    const range = (): [number, number] => {
      const from = r.int(0, store.words)
      return r.chance(0.3) ? [0, store.words] : [from, r.int(from, store.words)]
    }
    const live = () => r.pick([...model.keys()])
    const slot = () => r.int(0, store.capacity - 1)
    const log: string[] = []
    for (let step = 0; step < 1500; step += 1) {
      if (model.size < 3 || r.chance(0.04)) {
        const handle = store.alloc()
        expect(model.has(handle), `seed ${seed} step ${step}: alloc gave a handle in use`).toBe(false)
        model.set(handle, new Set())
        // A reused handle comes back empty.
        expect(members(store, handle)).toEqual([])
        continue
      }
      const op = r.int(0, 14)
      const h = live()
      const mine = model.get(h) as Set<number>
      log.push(`${op}:${h}`)
      switch (op) {
        case 0:
        case 1: {
          const s = slot()
          store.set(h, s)
          mine.add(s)
          break
        }
        case 2: {
          const s = r.chance(0.5) && mine.size > 0 ? r.pick([...mine]) : slot()
          store.clear(h, s)
          mine.delete(s)
          break
        }
        case 3: {
          const s = r.chance(0.5) && mine.size > 0 ? r.pick([...mine]) : slot()
          expect(store.has(h, s), `seed ${seed} step ${step}: has(${s})`).toBe(mine.has(s))
          break
        }
        case 4: {
          const [from, to] = range()
          store.zero(h, from, to)
          for (const s of [...mine]) if (inWords(s, from, to)) mine.delete(s)
          break
        }
        case 5: {
          const end = r.int(0, store.capacity)
          store.fillTo(h, end)
          model.set(h, new Set(Array.from({ length: end }, (_, i) => i)))
          break
        }
        case 6:
        case 7:
        case 8:
        case 9: {
          const [from, to] = range()
          const a = live()
          const b = live()
          const inA = new Set(model.get(a))
          const inB = new Set(model.get(b))
          const result = new Set([...mine].filter((s) => !inWords(s, from, to)))
          const candidates = new Set([...inA, ...inB])
          for (const s of candidates) {
            if (!inWords(s, from, to)) continue
            const keep = op === 6 ? inA.has(s) && inB.has(s) : op === 7 ? inA.has(s) || inB.has(s) : op === 8 ? inA.has(s) && !inB.has(s) : inA.has(s)
            if (keep) result.add(s)
          }
          if (op === 6) store.and(h, a, b, from, to)
          else if (op === 7) store.or(h, a, b, from, to)
          else if (op === 8) store.andNot(h, a, b, from, to)
          else store.copy(h, a, from, to)
          model.set(h, result)
          break
        }
        case 10: {
          const [from, to] = range()
          const handle = live()
          const other = model.get(handle) as Set<number>
          expect(store.count(h, from, to), `seed ${seed} step ${step}: count`).toBe([...mine].filter((s) => inWords(s, from, to)).length)
          expect(store.andCount(h, handle, from, to), `seed ${seed} step ${step}: andCount`).toBe([...mine].filter((s) => inWords(s, from, to) && other.has(s)).length)
          break
        }
        case 11: {
          const [from, to] = range()
          const terms = Array.from({ length: r.int(0, 6) }, live)
          const expected = terms.map((t) => [...(model.get(t) as Set<number>)].filter((s) => inWords(s, from, to) && mine.has(s)).length)
          expect(store.countMany(h, terms, from, to), `seed ${seed} step ${step}: countMany`).toEqual(expected)
          break
        }
        case 12: {
          const [from, to] = range()
          const words = [...mine].filter((s) => inWords(s, from, to)).map((s) => s >>> 6)
          const expected = words.length === 0 ? [to, to] : [Math.min(...words), Math.max(...words) + 1]
          expect(store.span(h, from, to), `seed ${seed} step ${step}: span(${from}, ${to})`).toEqual(expected)
          break
        }
        case 13: {
          const [from, to] = range()
          const stopAfter = r.int(1, 5)
          const seen: number[] = []
          store.forEach(h, (s) => (seen.push(s), seen.length < stopAfter), from, to)
          expect(seen, `seed ${seed} step ${step}: forEach stopping after ${stopAfter}`).toEqual(sorted(mine).filter((s) => inWords(s, from, to)).slice(0, stopAfter))
          break
        }
        default: {
          if (r.chance(0.3)) {
            store.grow(store.capacity + r.int(-10, 300))
          } else {
            store.release(h)
            model.delete(h)
          }
        }
      }
      // The handle just touched, whole.
      if (model.has(h)) expect(members(store, h), `seed ${seed} step ${step} (op ${op})`).toEqual(sorted(model.get(h) as Set<number>))
    }
    for (const [handle, set] of model) expect(members(store, handle), `seed ${seed}: handle ${handle} at the end`).toEqual(sorted(set))
  })

  it('grows from one word to many, keeping every bitset’s bits and the free list', () => {
    const store = new BitsetStore(1)
    expect(store.capacity).toBe(64)
    const handles = Array.from({ length: 50 }, () => store.alloc())
    handles.forEach((h, i) => store.set(h, i))
    store.release(handles[10] as number)
    for (const capacity of [65, 1000, 70_000, 1_000_000]) {
      store.grow(capacity)
      expect(store.capacity).toBeGreaterThanOrEqual(capacity)
      handles.forEach((h, i) => {
        if (i !== 10) expect(members(store, h)).toEqual([i])
      })
      store.set(handles[0] as number, store.capacity - 1)
      expect(store.count(handles[0] as number)).toBe(2)
      store.clear(handles[0] as number, store.capacity - 1)
    }
    // The released one comes back, empty.
    expect(store.alloc()).toBe(handles[10])
    expect(members(store, handles[10] as number)).toEqual([])
    // Growing to a smaller capacity changes nothing.
    const before = store.capacity
    store.grow(10)
    expect(store.capacity).toBe(before)
  })

  it('counts more terms than one kernel call takes (countMany in batches)', () => {
    const store = new BitsetStore(64)
    const mask = store.alloc()
    store.fillTo(mask, 40)
    const terms = Array.from({ length: 33_000 }, (_, i) => {
      const h = store.alloc()
      store.set(h, i % 64)
      store.set(h, (i * 7) % 64)
      return h
    })
    const counts = store.countMany(mask, terms)
    expect(counts).toHaveLength(terms.length)
    counts.forEach((count, i) => {
      const bits = new Set([i % 64, (i * 7) % 64])
      expect(count).toBe([...bits].filter((s) => s < 40).length)
    })
  })
})

/** Applies the same operations to a TermSet and a Set, and checks every way of reading the TermSet. */
function checkTermSet(store: BitsetStore, set: TermSet, model: Set<number>, r: Random, where: string): void {
  expect(set.size, `${where}: size`).toBe(model.size)
  for (let i = 0; i < 20; i += 1) {
    const s = r.chance(0.5) && model.size > 0 ? r.pick([...model]) : r.int(0, store.capacity - 1)
    expect(set.has(s), `${where}: has(${s})`).toBe(model.has(s))
  }
  const from = r.int(0, store.words)
  const to = r.int(from, store.words)
  const dst = store.alloc()
  const noise = r.int(0, store.capacity - 1)
  store.set(dst, noise)
  set.orInto(dst, from, to)
  const ored = new Set([noise, ...[...model].filter((s) => inWords(s, from, to))])
  expect(members(store, dst), `${where}: orInto(${from}, ${to})`).toEqual(sorted(ored))
  set.copyInto(dst, from, to)
  const copied = new Set([...[...ored].filter((s) => !inWords(s, from, to)), ...[...model].filter((s) => inWords(s, from, to))])
  expect(members(store, dst), `${where}: copyInto(${from}, ${to})`).toEqual(sorted(copied))
  const mask = store.alloc()
  const maskSlots = new Set(Array.from({ length: r.int(0, store.capacity) }, () => r.int(0, store.capacity - 1)))
  for (const s of maskSlots) store.set(mask, s)
  expect(set.countWith(mask, from, to), `${where}: countWith(${from}, ${to})`).toBe([...model].filter((s) => maskSlots.has(s) && inWords(s, from, to)).length)
  if (set.dense < 0) {
    const listed: number[] = []
    set.forEach((s) => listed.push(s))
    expect(listed, `${where}: forEach of a sparse set`).toEqual(sorted(model))
  }
  store.release(dst)
  store.release(mask)
}

describe('TermSet', () => {
  it.each(SEEDS)('agrees with a Set model through live adds and removes, turning dense, and growth (seed %i)', (seed) => {
    const r = new Random(seed)
    const store = new BitsetStore(r.pick([64, 320, 1000]))
    const set = new TermSet(store)
    const model = new Set<number>()
    let wentDense = false
    for (let step = 0; step < 1500; step += 1) {
      const s = r.chance(0.3) && model.size > 0 ? r.pick([...model]) : r.int(0, store.capacity - 1)
      if (r.chance(0.01)) store.grow(store.capacity + r.int(1, 200))
      else if (r.chance(0.65)) {
        set.add(s)
        model.add(s)
      } else {
        set.remove(s)
        model.delete(s)
      }
      wentDense ||= set.dense >= 0
      if (step % 25 === 0) checkTermSet(store, set, model, r, `seed ${seed} step ${step}`)
    }
    checkTermSet(store, set, model, r, `seed ${seed} at the end`)
    expect(wentDense, 'the set became a bitset at some point').toBe(true)
  })

  it.each(SEEDS)('agrees with a Set model after a bulk load out of order, then live changes (seed %i)', (seed) => {
    const r = new Random(seed)
    const store = new BitsetStore(r.pick([640, 2000]))
    for (const size of [3, 15, 19, 20, 21, 40, 200]) {
      const set = new TermSet(store)
      const model = new Set<number>()
      // Distinct slots, in any order (the bulk load appends each slot of a term once).
      const slots = r.some(Array.from({ length: store.capacity }, (_, i) => i), size, size)
      for (const s of slots) {
        set.append(s)
        model.add(s)
      }
      set.seal()
      checkTermSet(store, set, model, r, `seed ${seed}, ${size} appended`)
      for (let step = 0; step < 60; step += 1) {
        const s = r.chance(0.5) && model.size > 0 ? r.pick([...model]) : r.int(0, store.capacity - 1)
        if (r.chance(0.5)) {
          set.add(s)
          model.add(s)
        } else {
          set.remove(s)
          model.delete(s)
        }
      }
      checkTermSet(store, set, model, r, `seed ${seed}, ${size} appended, then changed`)
    }
  })

  it('keeps one copy of a slot appended twice in a row, so one removal takes it out', () => {
    // TermIndex.append documents "duplicates allowed" (a therapist's languages can repeat a tag).
    const store = new BitsetStore(6400)
    const set = new TermSet(store)
    set.append(3)
    set.append(5)
    set.append(5)
    set.seal()
    expect(set.size).toBe(2)
    set.remove(5)
    expect(set.has(5)).toBe(false)
  })

  it('drops duplicates appended out of order when sealed', () => {
    const store = new BitsetStore(6400)
    const set = new TermSet(store)
    for (const s of [9, 3, 9, 1, 3]) set.append(s)
    set.seal()
    expect(set.size).toBe(3)
    const listed: number[] = []
    set.forEach((s) => listed.push(s))
    expect(listed).toEqual([1, 3, 9])
  })
})

/** Which slots each key has, read back from a TermIndex (sparse and dense sets alike). */
function readBack(store: BitsetStore, terms: TermIndex, keys: Iterable<string>): Map<string, number[]> {
  const out = new Map<string, number[]>()
  const dst = store.alloc()
  for (const key of keys) {
    store.zero(dst)
    terms.get(key)?.orInto(dst)
    out.set(key, members(store, dst))
  }
  store.release(dst)
  return out
}

/** The keys whose slots differ, with both lists (empty when the index agrees with the model). */
function mismatches(actual: Map<string, number[]>, wanted: Map<string, number[]>): string[] {
  const out: string[] = []
  for (const [key, list] of wanted) {
    const got = actual.get(key) ?? []
    if (got.join() !== list.join()) out.push(`${key}: index [${got.join()}] model [${list.join()}]`)
  }
  return out
}

function expected(model: Map<number, Set<string>>, keys: Iterable<string>): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const key of keys) {
    out.set(
      key,
      sorted([...model].filter(([, have]) => have.has(key)).map(([slot]) => slot)),
    )
  }
  return out
}

describe('TermIndex', () => {
  /** Three common keys (they turn dense), and many rare ones (they stay sorted arrays). */
  const KEYS = Array.from({ length: 300 }, (_, i) => `k${i < 9 && i % 3 === 0 ? 'common' : 'rare'}${i}`)
  /** A slot's keys: a few common ones (they turn dense) and some rare ones, now and then one twice (as a therapist's languages can be). */
  const keysFor = (r: Random) => {
    const keys = [...(r.chance(0.7) ? ['kcommon0'] : []), ...(r.chance(0.4) ? ['kcommon3'] : []), ...(r.chance(0.2) ? ['kcommon6'] : []), ...r.some(KEYS, 0, 4)]
    if (keys.length > 0 && r.chance(0.1)) keys.push(r.pick(keys))
    return keys
  }

  for (const trackSlots of [false, true]) {
    for (const load of ['none', 'by slot', 'by term', 'both'] as const) {
      it.each(SEEDS)(`replace and remove agree with a model (trackSlots ${trackSlots}, bulk load ${load}, seed %i)`, (seed) => {
        const r = new Random(seed)
        const slots = 300
        const store = new BitsetStore(slots)
        const terms = new TermIndex(store, trackSlots)
        const model = new Map<number, Set<string>>()
        if (load !== 'none') {
          // By slot: each slot once with its keys (repeats allowed). By term: each key once with its slots.
          const bySlot = new Map<number, string[]>()
          const byTerm = new Map<string, number[]>()
          for (let slot = 0; slot < slots; slot += 1) {
            const keys = keysFor(r)
            if (keys.length === 0) continue
            model.set(slot, new Set(keys))
            const split = load === 'both' ? r.int(0, keys.length) : load === 'by slot' ? keys.length : 0
            bySlot.set(slot, keys.slice(0, split))
            // A term's postings list each slot once (Postgres groups a row's distinct lexemes).
            for (const key of new Set(keys.slice(split))) byTerm.set(key, [...(byTerm.get(key) ?? []), slot])
          }
          // Slots in order or shuffled: the build reads rows by row number, which may or may not be the slots' order.
          const order = r.chance(0.5) ? [...bySlot.keys()] : r.some([...bySlot.keys()], bySlot.size, bySlot.size)
          for (const slot of order) terms.append(slot, bySlot.get(slot) ?? [])
          for (const [key, list] of byTerm) terms.appendSlots(key, r.some(list, list.length, list.length))
          terms.seal()
          expect(mismatches(readBack(store, terms, KEYS), expected(model, KEYS)), `seed ${seed}: after the bulk load`).toEqual([])
        }
        for (let step = 0; step < 400; step += 1) {
          const slot = r.int(0, slots - 1)
          if (r.chance(0.75)) {
            const keys = keysFor(r)
            terms.replace(slot, keys)
            if (keys.length > 0) model.set(slot, new Set(keys))
            else model.delete(slot)
          } else {
            terms.remove(slot)
            model.delete(slot)
          }
          if (step % 40 === 0) expect(mismatches(readBack(store, terms, KEYS), expected(model, KEYS)), `seed ${seed} step ${step}`).toEqual([])
        }
        expect(mismatches(readBack(store, terms, KEYS), expected(model, KEYS)), `seed ${seed} at the end`).toEqual([])
        // Prefixes: every key starting with it, and only those.
        for (const prefix of ['k', 'kcommon', 'krare1', 'kz', 'kcommon3']) {
          const dst = store.alloc()
          for (const set of terms.withPrefix(prefix)) set.orInto(dst)
          const wanted = new Set<number>()
          for (const [slot, have] of model) if ([...have].some((key) => key.startsWith(prefix))) wanted.add(slot)
          expect(members(store, dst), `seed ${seed}: prefix ${prefix}`).toEqual(sorted(wanted))
          store.release(dst)
        }
      })
    }
  }

  it('compacts the per-slot lists after many replacements and still removes every term', () => {
    const r = new Random(11)
    const slots = 1000
    const store = new BitsetStore(slots)
    const terms = new TermIndex(store, true)
    const words = Array.from({ length: 20_000 }, (_, i) => `w${i}`)
    const model = new Map<number, string[]>()
    for (let slot = 0; slot < slots; slot += 1) {
      const keys = Array.from({ length: 60 }, () => r.pick(words))
      model.set(slot, keys)
      terms.append(slot, keys)
    }
    terms.seal()
    // 60 keys a replacement: about 17,000 replacements leave over a million stale entries to compact.
    for (let step = 0; step < 17_500; step += 1) {
      const slot = r.int(0, slots - 1)
      const keys = Array.from({ length: 60 }, () => r.pick(words))
      terms.replace(slot, keys)
      model.set(slot, keys)
    }
    for (let slot = 0; slot < slots; slot += 3) {
      terms.remove(slot)
      model.delete(slot)
    }
    const touched = new Set([...model.values()].flat().slice(0, 3000))
    const check = new Map<number, Set<string>>([...model].map(([slot, keys]) => [slot, new Set(keys)]))
    expect(mismatches(readBack(store, terms, touched), expected(check, touched))).toEqual([])
    // A removed slot is in no set at all.
    const everyKey = new Set(words)
    const back = readBack(store, terms, everyKey)
    for (const [key, list] of back) if (list.some((slot) => slot % 3 === 0)) throw new Error(`removed slot still under ${key}`)
  })
})

describe('bitset kernel', () => {
  it('is the compilation of bitset-kernel.wat', async () => {
    expect(BITSET_KERNEL_WASM).toBe(await compileKernel())
  })
})
