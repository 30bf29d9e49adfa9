/** A reproducible random source for tests that generate their cases (print the seed with a failure). */
import { prng } from '../../src/modules/directory/therapist-generator.js'

/** The therapist generator's seedable source (mulberry32), with the picks tests need. */
export class Random {
  readonly next: () => number

  constructor(seed: number) {
    this.next = prng(seed)
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
