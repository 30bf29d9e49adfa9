import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { readLines, type UploadLine } from '../../src/modules/directory/import-lines.js'

/** Directory parts with no database: the import's line reader. */

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
