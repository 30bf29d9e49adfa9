/** A reproducible random source for tests that generate their cases (print the seed with a failure). */

/** mulberry32: small, seedable, reproducible (the same one the therapist generator uses). */
export class Random {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)]
    if (item === undefined) throw new Error('pick from an empty list')
    return item
  }

  /** Up to `max` distinct items (at least `min`). */
  some<T>(items: readonly T[], min: number, max: number): T[] {
    const pool = [...items]
    const out: T[] = []
    for (let n = this.int(min, Math.min(max, pool.length)); n > 0; n -= 1) out.push(...pool.splice(Math.floor(this.next() * pool.length), 1))
    return out
  }
}
