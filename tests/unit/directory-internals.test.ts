import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { readLines, type UploadLine } from '../../src/modules/directory/import-lines.js'
import { nearestState, type PostalCode, postalCodes } from '../../src/modules/directory/postal-codes.js'

/** Directory parts with no database: the import's line reader, the nearest-state index. */

const collect = async (chunks: (string | Buffer)[], maxBytes = 1024, maxLineBytes = 64): Promise<UploadLine[]> => {
  const items: UploadLine[] = []
  for await (const item of readLines(Readable.from(chunks), { maxBytes, maxLineBytes })) items.push(item)
  return items
}

describe('import line reader', () => {
  it('splits on \\n and \\r\\n, keeps characters split across chunks, and reads a last line without a break', async () => {
    const euro = Buffer.from('€', 'utf8')
    const items = await collect([Buffer.from('a\r\nb'), Buffer.concat([Buffer.from('c'), euro.subarray(0, 1)]), Buffer.concat([euro.subarray(1), Buffer.from('\n\nlast')])])
    expect(items).toEqual([
      { line: 1, text: 'a' },
      { line: 2, text: 'bc€' },
      { line: 3, text: '' },
      { line: 4, text: 'last' },
    ])
  })

  it('skips an over-long line without keeping it and stops at the byte limit, naming the line', async () => {
    expect(await collect(['ok\n', 'y'.repeat(100), 'y'.repeat(100), '\nnext\n'])).toEqual([
      { line: 1, text: 'ok' },
      { line: 2, tooLong: true },
      { line: 3, text: 'next' },
    ])
    // 10 bytes allowed: "one\ntwo\n" (8) fits, "three" starts inside the limit and crosses it.
    expect(await collect(['one\ntwo\nthree\nfour\n'], 10)).toEqual([
      { line: 1, text: 'one' },
      { line: 2, text: 'two' },
      { line: 3, overLimit: true },
    ])
    // Exactly at the limit is not over it.
    expect(await collect(['one\ntwo\n'], 8)).toEqual([
      { line: 1, text: 'one' },
      { line: 2, text: 'two' },
    ])
  })

  it('leaves the stream open when reading stops early', async () => {
    const body = Readable.from(['a\n', 'b\n', 'c\n'])
    for await (const item of readLines(body, { maxBytes: 1024, maxLineBytes: 64 })) if (item.line === 1) break
    expect(body.destroyed).toBe(false)
  })
})

describe('nearest state from coordinates', () => {
  /** What nearestState computed before it had an index: every ZIP centroid, nearest first, farther than 1.5° is nowhere. */
  async function bruteForce(latitude: number, longitude: number): Promise<string | undefined> {
    let best: PostalCode | undefined
    let bestScore = Infinity
    const cosLat = Math.cos((latitude * Math.PI) / 180)
    for (const entry of (await postalCodes()).values()) {
      const dLat = entry.latitude - latitude
      const dLon = (entry.longitude - longitude) * cosLat
      const score = dLat * dLat + dLon * dLon
      if (score < bestScore) {
        bestScore = score
        best = entry
      }
    }
    return best !== undefined && bestScore < 2.25 ? best.state : undefined
  }

  it('answers as a scan of every ZIP does, across the US, its territories, borders and open sea', async () => {
    // A fixed pseudo-random walk, so a failure can be replayed.
    let seed = 12345
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }
    const boxes: [number, number, number, number][] = [
      [24, 50, -125, -66], // contiguous states and the sea and Canada and Mexico around them
      [51, 72, -180, -129], // Alaska and the Aleutians
      [18, 23, -161, -154], // Hawaii
      [17, 19, -68, -64], // Puerto Rico and the Virgin Islands
      [13, 16, 144, 146.5], // Guam and the Northern Marianas
      [-15, -13, -171.5, -168], // American Samoa
      [-90, 90, -180, 180], // anywhere
    ]
    let found = 0
    for (const [south, north, west, east] of boxes) {
      for (let i = 0; i < 300; i += 1) {
        const latitude = south + random() * (north - south)
        const longitude = west + random() * (east - west)
        const expected = await bruteForce(latitude, longitude)
        if (expected !== undefined) found += 1
        expect(await nearestState(latitude, longitude), `${latitude},${longitude}`).toBe(expected)
      }
    }
    // The walk did land in states, not only at sea.
    expect(found).toBeGreaterThan(500)
    expect(await nearestState(37.76, -122.42)).toBe('CA')
    expect(await nearestState(0, 0)).toBeUndefined()
  })
})
