import type { Readable } from 'node:stream'

/** One line of an upload as the import reads it: its text, or that it was skipped, or that reading stopped in it. */
export type UploadLine =
  /** A whole line, without its line break (`\n` or `\r\n`). */
  | { line: number; text: string }
  /** A line longer than `maxLineBytes`: skipped, none of it kept. */
  | { line: number; tooLong: true }
  /** The upload went past `maxBytes` in this line: nothing from here on was read. Always the last item. */
  | { line: number; overLimit: true }

export interface LineLimits {
  /** Bytes read from the upload at most. */
  maxBytes: number
  /** Bytes of one line at most, without its line break. */
  maxLineBytes: number
}

/**
 * Splits an upload into lines, counting raw bytes as they arrive, before anything is decoded or
 * kept: a body without line breaks, or one larger than `maxBytes`, is never held. Memory holds at
 * most one line of `maxLineBytes`.
 *
 * Never destroys `body`, also when the caller stops early: for an HTTP request that would destroy
 * the socket, and with it the response. The caller answers with `connection: close` instead.
 */
export async function* readLines(body: Readable, limits: LineLimits): AsyncGenerator<UploadLine, void, undefined> {
  let total = 0
  let line = 1
  let parts: Buffer[] = []
  let size = 0
  let tooLong = false

  const append = (segment: Buffer) => {
    size += segment.length
    if (tooLong) return
    if (size > limits.maxLineBytes) {
      tooLong = true
      parts = []
    } else if (segment.length > 0) parts.push(segment)
  }
  const endLine = (): UploadLine => {
    const item: UploadLine = tooLong ? { line, tooLong: true } : { line, text: Buffer.concat(parts, size).toString('utf8').replace(/\r$/, '') }
    line += 1
    parts = []
    size = 0
    tooLong = false
    return item
  }

  const chunks = body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer | string>
  for await (const raw of chunks) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw
    const over = total + chunk.length > limits.maxBytes
    if (over) chunk = chunk.subarray(0, limits.maxBytes - total)
    total += chunk.length
    let start = 0
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      append(chunk.subarray(start, newline))
      yield endLine()
      start = newline + 1
    }
    append(chunk.subarray(start))
    if (over) {
      yield { line, overLimit: true }
      return
    }
  }
  // The last line may lack its line break.
  if (size > 0) yield endLine()
}
