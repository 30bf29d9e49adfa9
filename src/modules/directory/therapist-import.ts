import type { Readable } from 'node:stream'
import type { FieldError } from '../../lib/errors.js'
import { issueFields } from '../../lib/validation-messages.js'
import { type ImportReport, TherapistInputSchema } from './directory-schemas.js'
import { readLines } from './import-lines.js'
import { normalizeTherapist, type TherapistRow, UPSERT_BY_EXTERNAL_ID } from './therapist-write.js'
import type { Vocabulary } from './vocabulary.js'

/** Import limits: lines per upload, rows per write statement, bytes per upload, bytes per line. */
export const IMPORT_MAX_LINES = 50_000
export const IMPORT_BATCH_SIZE = 500
export const IMPORT_MAX_BYTES = 64 * 1024 * 1024
/** Far above any valid therapist (a 5,000-character bio, ten offices, fifty insurers), so only garbage is skipped. */
export const IMPORT_MAX_LINE_BYTES = 256 * 1024

type LineResult = ImportReport['results'][number]
type Written = { ord: number; status: string; id: string }

/**
 * Imports NDJSON, one therapist per line, upserted by externalId. Lines are validated one by
 * one and written in batches of IMPORT_BATCH_SIZE, each batch one statement; if a batch fails,
 * its lines are retried one by one, so every line is either fully written or rejected.
 * Memory holds one line, one batch and the report.
 *
 * Reading stops at the first line past IMPORT_MAX_LINES or the first byte past IMPORT_MAX_BYTES:
 * the lines before it are written and reported as usual, one last entry (code `line_limit` or
 * `body_too_large`) says where reading stopped, and `summary.complete` is false.
 */
export async function importNdjson(body: Readable, vocab: Vocabulary, commit: (sql: string, params: unknown[]) => Promise<Written[]>): Promise<ImportReport> {
  const results: LineResult[] = []
  let batch: { row: TherapistRow; line: number }[] = []
  let complete = true
  // Once per report, not per line: every valid slug of each field that had an unknown value.
  const validValues: Record<string, string[]> = {}

  const flush = async () => {
    if (batch.length === 0) return
    const pending = batch
    batch = []
    try {
      const written = await commit(UPSERT_BY_EXTERNAL_ID, [JSON.stringify(pending.map((item) => item.row))])
      record(pending, written)
    } catch {
      // One bad line must not sink the others: retry each alone, so only the culprit is rejected.
      for (const item of pending) {
        try {
          record([item], await commit(UPSERT_BY_EXTERNAL_ID, [JSON.stringify([item.row])]))
        } catch (error) {
          results.push(rejected(item.line, item.row.external_id, [{ field: '', message: `The database refused this line (${databaseReason(error)}).`, code: 'write_failed' }]))
        }
      }
    }
  }
  const record = (items: { row: TherapistRow; line: number }[], written: Written[]) => {
    const byOrd = new Map(written.map((row) => [Number(row.ord), row]))
    for (const item of items) {
      const outcome = byOrd.get(item.row.ord)
      if (!outcome || outcome.status === 'conflict') {
        results.push(rejected(item.line, item.row.external_id, [{ field: 'externalId', message: 'Written by another request at the same moment; retry this line.', code: 'concurrent_write' }]))
      } else {
        results.push({ line: item.line, externalId: item.row.external_id, status: outcome.status as LineResult['status'], id: outcome.id })
      }
    }
  }
  const stop = (line: number, code: string, message: string) => {
    complete = false
    results.push(rejected(line, null, [{ field: '', code, message: `${message} Reading stopped here: neither this line nor any after it was imported; send them as another import.` }]))
  }

  for await (const item of readLines(body, { maxBytes: IMPORT_MAX_BYTES, maxLineBytes: IMPORT_MAX_LINE_BYTES })) {
    if ('overLimit' in item) {
      stop(item.line, 'body_too_large', `An import is at most ${IMPORT_MAX_BYTES} bytes.`)
      break
    }
    if ('text' in item && item.text.trim() === '') continue
    if (item.line > IMPORT_MAX_LINES) {
      stop(item.line, 'line_limit', `An import reads at most ${IMPORT_MAX_LINES} lines.`)
      break
    }
    if ('tooLong' in item) {
      results.push(rejected(item.line, null, [{ field: '', code: 'line_too_long', message: `A line is at most ${IMPORT_MAX_LINE_BYTES} bytes; this one was skipped unread.` }]))
      continue
    }
    const outcome = await parseLine(item.text, vocab, item.line)
    if (!outcome.ok) {
      results.push(rejected(item.line, outcome.externalId, outcome.errors))
      Object.assign(validValues, outcome.validValues)
      continue
    }
    // The same externalId twice in a batch: write the earlier first, so the later line wins.
    if (batch.some((pending) => pending.row.external_id === outcome.row.external_id)) await flush()
    batch.push({ row: outcome.row, line: item.line })
    if (batch.length >= IMPORT_BATCH_SIZE) await flush()
  }
  await flush()

  results.sort((a, b) => a.line - b.line)
  const count = (status: LineResult['status']) => results.filter((result) => result.status === status).length
  return {
    summary: { lines: results.length, created: count('created'), updated: count('updated'), unchanged: count('unchanged'), rejected: count('rejected'), complete },
    results,
    ...(Object.keys(validValues).length > 0 ? { validValues } : {}),
  }
}

async function parseLine(
  text: string,
  vocabulary: Vocabulary,
  line: number,
): Promise<{ ok: true; row: TherapistRow } | { ok: false; externalId: string | null; errors: NonNullable<LineResult['errors']>; validValues?: Record<string, string[]> }> {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { ok: false, externalId: null, errors: [{ field: '', message: 'Not a JSON object.', code: 'invalid_json' }] }
  }
  const externalId = typeof json === 'object' && json !== null && 'externalId' in json && typeof json.externalId === 'string' ? json.externalId : null
  const parsed = TherapistInputSchema.safeParse(json)
  if (!parsed.success) {
    return { ok: false, externalId, errors: parsed.error.issues.flatMap((issue) => issueFields(issue)) }
  }
  if (!parsed.data.externalId) {
    return { ok: false, externalId, errors: [{ field: 'externalId', message: 'Imports upsert by externalId: every line needs one.', code: 'required' }] }
  }
  const normalized = await normalizeTherapist(parsed.data, vocabulary, { ord: line })
  if (!normalized.ok) {
    return { ok: false, externalId, errors: normalized.errors.map(({ field, message, code }: FieldError) => ({ field, message, code })), validValues: normalized.validValues }
  }
  return normalized
}

const rejected = (line: number, externalId: string | null, errors: NonNullable<LineResult['errors']>): LineResult => ({ line, externalId, status: 'rejected', id: null, errors })

/** A short reason from a database error, without SQL or data. */
function databaseReason(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error).code) : 'unknown'
  return `SQLSTATE ${code}`
}

