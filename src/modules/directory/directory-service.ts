import type { Readable } from 'node:stream'
import type { Database } from '../../db/database.js'
import { AppError, BadRequestError, ConflictError, type FieldError, NotFoundError, ValidationError } from '../../lib/errors.js'
import { toPage } from '../../lib/pagination.js'
import {
  type ImportReport,
  type Therapist,
  type TherapistInput,
  TherapistInputSchema,
  type TherapistPatch,
  TherapistSchema,
  type TherapistSearchQuery,
} from './directory-schemas.js'
import {
  cursorKey,
  DISTANCE_CANDIDATES,
  type FacetRow,
  facetCounts,
  facetStatement,
  MAX_DISTANCE_CANDIDATES,
  moreOfficesWithinRadius,
  type PageRow,
  type ResolvedSearch,
  resolveSearch,
  pageStatement,
} from './therapist-search.js'
import { readLines } from './import-lines.js'
import { INSERT_NEW, type NormalizeOptions, normalizeTherapist, profileToInput, type TherapistRow, UPDATE_BY_ID, UPSERT_BY_EXTERNAL_ID } from './therapist-write.js'
import { loadVocabulary, type Vocabulary, type VocabularyKind, type VocabularyTerm } from './vocabulary.js'

/** Import limits: lines per upload, rows per write statement, bytes per upload, bytes per line. */
export const IMPORT_MAX_LINES = 50_000
export const IMPORT_BATCH_SIZE = 500
export const IMPORT_MAX_BYTES = 64 * 1024 * 1024
/** Far above any valid therapist (a 5,000-character bio, ten offices, fifty insurers), so only garbage is skipped. */
export const IMPORT_MAX_LINE_BYTES = 256 * 1024

const isoTime = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

/** The full profile as JSON text, built by Postgres (the same shape as TherapistSchema). */
const PROFILE_JSON = `(SELECT row_to_json(p) FROM (SELECT
  t.id, t.external_id AS "externalId", t.name, t.pronouns, t.credentials,
  (SELECT row_to_json(l) FROM (SELECT t.license_type AS type, lt.name, lt.nucc_code AS "nuccCode", t.license_number AS number,
                                      t.license_state AS state, t.licensed_states AS "licensedStates") l) AS license,
  t.npi, t.bio, t.years_in_practice AS "yearsInPractice",
  t.modalities, t.specialties, t.client_focus AS "clientFocus", t.formats, t.languages,
  COALESCE((SELECT json_agg(o) FROM (SELECT o.street, o.city, o.state, o.postal_code AS "postalCode", o.latitude, o.longitude
                                      FROM therapist_office o WHERE o.therapist_id = t.id ORDER BY o.position) o), '[]'::json) AS offices,
  t.fee_min AS "feeMin", t.fee_max AS "feeMax", t.sliding_scale AS "slidingScale", t.insurance,
  t.accepting_new_clients AS "acceptingNewClients", ${isoTime('t.accepting_verified_at')} AS "acceptingNewClientsVerifiedAt",
  ${isoTime('t.created_at')} AS "createdAt", ${isoTime('t.updated_at')} AS "updatedAt"
) p)::text`
const LIVE_BY_ID = `FROM therapist t JOIN vocabulary_term lt ON lt.kind = 'license_type' AND lt.slug = t.license_type
WHERE t.id = $1::uuid AND t.deleted_at IS NULL`

export const PROFILE_SQL = `SELECT ${PROFILE_JSON} AS json
${LIVE_BY_ID}`

/** The profile with the content hash it was read at: a patch writes only if the hash is still the same. */
const PROFILE_FOR_PATCH_SQL = `SELECT ${PROFILE_JSON} AS json, t.content_hash AS hash
${LIVE_BY_ID}`

/** A patch re-reads and re-merges at most this many times while other writes keep changing the therapist, then answers 409. */
export const PATCH_ATTEMPTS = 5

type LineResult = ImportReport['results'][number]

/**
 * The therapist directory: vocabularies, search, profiles and curation. Reads return JSON text
 * built by Postgres (see therapist-search.ts for why); writes go through one normalizing path.
 */
export interface DirectoryServiceOptions {
  db: Pick<Database, 'query' | 'prisma'>
  /** How long facet counts are reused (FACET_CACHE_SECONDS); 0 turns the cache off. */
  facetCacheMs?: number
  /** sort=distance: how many nearest offices the first try visits (tests make it small to exercise the widening). */
  distanceCandidates?: number
}

export function createDirectoryService({ db, facetCacheMs = 0, distanceCandidates = DISTANCE_CANDIDATES }: DirectoryServiceOptions) {
  let vocabularyLoad: Promise<Vocabulary> | undefined
  const facetCache = new FacetCache(facetCacheMs)

  /** The vocabularies change only with a migration, so one load per process is enough. */
  function vocabulary(): Promise<Vocabulary> {
    vocabularyLoad ??= loadVocabulary(db).catch((error: unknown) => {
      vocabularyLoad = undefined
      throw error
    })
    return vocabularyLoad
  }

  async function profileJson(id: string): Promise<string> {
    const [row] = await db.query<{ json: string }>(PROFILE_SQL, [id])
    if (!row) throw new NotFoundError('therapist', id)
    return row.json
  }

  const profile = async (id: string): Promise<Therapist> => TherapistSchema.parse(JSON.parse(await profileJson(id)))

  async function normalizeOrThrow(input: TherapistInput, options: NormalizeOptions = {}): Promise<TherapistRow> {
    const result = await normalizeTherapist(input, await vocabulary(), options)
    if (result.ok) return result.row
    const { errors, validValues } = result
    // Unknown vocabulary values come with every valid slug, as in a search's 400.
    throw new BadRequestError('validation_failed', `The therapist is invalid: ${errors.length} problem${errors.length === 1 ? '' : 's'}.`, {
      errors,
      ...(Object.keys(validValues).length > 0 ? { validValues } : {}),
    })
  }

  /**
   * Every write statement of the directory runs through here, so facet counts are dropped in one
   * place, and only once the write has committed (each statement commits on its own): a count
   * started before that moment may have read the old rows, and its cache entry, stored when it
   * started, is gone with the clear. Clearing before the write let a search that ran between the
   * clear and the commit keep the old counts for FACET_CACHE_SECONDS.
   */
  async function commit<Row>(sql: string, params: unknown[]): Promise<Row[]> {
    try {
      return await db.query<Row>(sql, params)
    } finally {
      facetCache.clear()
    }
  }

  /** Runs a write statement of one therapist (create, patch); a taken externalId is a 409 that says whose it is. */
  async function write(sql: string, row: TherapistRow, params: unknown[] = []): Promise<{ ord: number; status: string; id: string }[]> {
    try {
      return await commit<{ ord: number; status: string; id: string }>(sql, [JSON.stringify([row]), ...params])
    } catch (error) {
      if (isUniqueViolation(error)) throw await externalIdConflict(row)
      throw error
    }
  }

  /**
   * The 409 for an externalId another therapist holds. A removed (soft-deleted) one still holds it,
   * although its profile is a 404: the problem says so, and that an import of the externalId restores it.
   */
  async function externalIdConflict(row: TherapistRow): Promise<AppError> {
    const [owner] = await db.query<{ id: string; removed: boolean }>(
      `SELECT id, deleted_at IS NOT NULL AS removed FROM therapist WHERE external_id = $1 AND id <> $2::uuid`,
      [row.external_id, row.id],
    )
    if (owner?.removed) {
      return new AppError(
        409,
        'external_id_removed',
        'Conflict',
        `The externalId ${JSON.stringify(row.external_id)} belongs to therapist ${owner.id}, which was removed. To bring it back with this content, ` +
          'send it as a line of POST /v1/therapists/import (an import restores a removed therapist with the same externalId); otherwise use another externalId.',
        { therapistId: owner.id },
      )
    }
    if (!owner) return new ConflictError('Another therapist already has this externalId.', 'external_id_taken')
    return new AppError(409, 'external_id_taken', 'Conflict', `Therapist ${owner.id} already has the externalId ${JSON.stringify(row.external_id)}.`, { therapistId: owner.id })
  }

  return {
    vocabulary,

    async terms(kind: VocabularyKind): Promise<VocabularyTerm[]> {
      return (await vocabulary()).list(kind)
    },

    /**
     * One page of search results as JSON text (TherapistSearchResult), hits and facets built by Postgres.
     * @throws BadRequestError for unknown vocabulary values, contradictory or missing parameters, bad cursors
     */
    async search(query: TherapistSearchQuery): Promise<string> {
      const search = await resolveSearch(query, await vocabulary())
      const facetSql = facetStatement(search)
      const facetQuery = facetSql
        ? facetCache.get(facetKey(search), async () => {
            const [counts] = await db.query<Record<string, number>>(facetSql.sql, facetSql.params)
            return facetSql.columns.map(({ facet, value }, index): FacetRow => ({ facet, value, count: Number(counts?.[`c${index}`] ?? 0) }))
          })
        : Promise.resolve(null)
      // Awaited below; until then a failure must not count as unhandled if the page query fails first.
      facetQuery.catch(() => undefined)
      // sort=distance visits a bounded number of nearest offices; a short page may mean the bound, not the
      // radius, ran out: then the bound widens 8x. The next page starts from the bound this one needed.
      const cursor = search.cursor
      let candidates = cursor?.s === 'distance' && cursor.b === 0 ? (cursor.k ?? distanceCandidates) : distanceCandidates
      let page = pageStatement(search, candidates)
      let rows = await db.query<PageRow>(page.sql, page.params)
      while (candidates < MAX_DISTANCE_CANDIDATES && !(cursor?.s === 'distance' && cursor.b === 1)) {
        const nearby = rows.filter((row) => row.bucket === 0).length
        const check = nearby <= search.limit ? moreOfficesWithinRadius(search, candidates) : null
        if (check === null) break
        const [beyond] = await db.query<{ more: boolean }>(check.sql, check.params)
        if (!beyond?.more) break
        candidates = Math.min(candidates * 8, MAX_DISTANCE_CANDIDATES)
        page = pageStatement(search, candidates)
        rows = await db.query<PageRow>(page.sql, page.params)
      }
      const facetRows = await facetQuery
      const { data, page: next } = toPage(rows, search.limit, (row) => row.json, (row) => cursorKey(search, row, candidates))
      const facets = facetRows === null ? null : facetCounts(search, facetRows)
      return `{"data":[${data.join(',')}],"page":${JSON.stringify(next)},"facets":${JSON.stringify(facets)},"applied":${JSON.stringify(applied(search))}}`
    },

    profileJson,
    profile,

    async create(input: TherapistInput): Promise<Therapist> {
      const row = await normalizeOrThrow(input)
      await write(INSERT_NEW, row)
      return profile(row.id)
    },

    /**
     * Merges the patch into the stored profile, validates the whole, and writes it if anything changed,
     * but only over what it read: the write checks the content hash read with the profile, and when
     * another write got in between, the patch is merged into the new content and tried again (a
     * read-merge-write without the check lost one of two concurrent patches to different fields).
     * @throws ConflictError (`concurrent_update`) when other writes win PATCH_ATTEMPTS times in a row
     */
    async patch(id: string, patch: TherapistPatch): Promise<Therapist> {
      for (let attempt = 1; ; attempt += 1) {
        const [read] = await db.query<{ json: string; hash: string }>(PROFILE_FOR_PATCH_SQL, [id])
        if (!read) throw new NotFoundError('therapist', id)
        const stored = TherapistSchema.parse(JSON.parse(read.json))
        const current = profileToInput(stored)
        const merged = { ...current, ...patch, license: patch.license ?? current.license }
        // The merged whole must still be a valid therapist (e.g. feeMin ≤ feeMax across old and new values).
        const parsed = TherapistInputSchema.safeParse(merged)
        if (!parsed.success) {
          throw new ValidationError(
            'The therapist would be invalid after this change.',
            parsed.error.issues.map((issue) => ({ in: 'body', field: issue.path.join('.'), message: issue.message, code: issue.code })),
          )
        }
        const row = await normalizeOrThrow(parsed.data, { id, clearVerifiedAt: patch.acceptingNewClientsVerifiedAt === null })
        // Nothing changes: nothing to write.
        if (row.content_hash === read.hash) return stored
        if ((await write(UPDATE_BY_ID, row, [read.hash])).length > 0) return profile(id)
        // Changed or removed since it was read: read again (a removal is a 404 then).
        if (attempt >= PATCH_ATTEMPTS) {
          throw new ConflictError('Other requests kept changing this therapist while the change was being applied; nothing was written. Read it again and retry.', 'concurrent_update')
        }
      }
    },

    /** Soft delete: hidden from search and profiles at once; an import of the same externalId restores it. */
    async remove(id: string): Promise<void> {
      const rows = await commit<{ id: string }>(
        `UPDATE therapist SET deleted_at = now(), updated_at = now() WHERE id = $1::uuid AND deleted_at IS NULL RETURNING id`,
        [id],
      )
      if (rows.length === 0) throw new NotFoundError('therapist', id)
    },

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
    async importNdjson(body: Readable): Promise<ImportReport> {
      const vocab = await vocabulary()
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
          const written = await commit<{ ord: number; status: string; id: string }>(UPSERT_BY_EXTERNAL_ID, [JSON.stringify(pending.map((item) => item.row))])
          record(pending, written)
        } catch {
          // One bad line must not sink the others: retry each alone, so only the culprit is rejected.
          for (const item of pending) {
            try {
              record([item], await commit<{ ord: number; status: string; id: string }>(UPSERT_BY_EXTERNAL_ID, [JSON.stringify([item.row])]))
            } catch (error) {
              results.push(rejected(item.line, item.row.external_id, [{ field: '', message: `The database refused this line (${databaseReason(error)}).`, code: 'write_failed' }]))
            }
          }
        }
      }
      const record = (items: { row: TherapistRow; line: number }[], written: { ord: number; status: string; id: string }[]) => {
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
    },
  }
}

export type DirectoryService = ReturnType<typeof createDirectoryService>

/**
 * Facet counts by filter set, for a short time. Counting is the costly part of a search (it reads
 * every match, not one page), and integrators ask for the same filters again as users page, sort or
 * come back. Concurrent identical requests share one count. An entry is stored when its count starts,
 * and every write through this service clears the cache after it commits (see `commit`).
 */
class FacetCache {
  private readonly entries = new Map<string, { until: number; rows: Promise<FacetRow[]> }>()
  constructor(private readonly ttlMs: number, private readonly maxEntries = 1000) {}

  get(key: string, count: () => Promise<FacetRow[]>): Promise<FacetRow[]> {
    if (this.ttlMs <= 0) return count()
    const now = Date.now()
    const hit = this.entries.get(key)
    if (hit && hit.until > now) return hit.rows
    const rows = count()
    this.entries.delete(key)
    this.entries.set(key, { until: now + this.ttlMs, rows })
    // A failed count must not be served to the next caller (nor remove a newer entry for the key).
    rows.catch(() => {
      if (this.entries.get(key)?.rows === rows) this.entries.delete(key)
    })
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
    return rows
  }

  clear(): void {
    this.entries.clear()
  }
}

/** What facet counts depend on: the filters, not the sort, page or limit. */
function facetKey(search: ResolvedSearch): string {
  const { sort: _sort, limit: _limit, cursor: _cursor, facetTerms: _terms, ...filters } = search
  return JSON.stringify(filters)
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
    return { ok: false, externalId, errors: parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message, code: issue.code })) }
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

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error).code === '23505'
}

/** A short reason from a database error, without SQL or data. */
function databaseReason(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error).code) : 'unknown'
  return `SQLSTATE ${code}`
}

function applied(search: ResolvedSearch) {
  return {
    sort: search.sort,
    modality: search.modality,
    specialty: search.specialty,
    clientFocus: search.clientFocus,
    format: search.format,
    licenseType: search.licenseType,
    location: search.location ?? null,
  }
}
