import type { Readable } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import { LRUCache } from 'lru-cache'
import type { Database } from '../../db/database.js'
import { isConnectionError } from '../../lib/db-errors.js'
import { AppError, BadRequestError, ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../../lib/errors.js'
import { encodeCursor, toPage } from '../../lib/pagination.js'
import { issueFields } from '../../lib/validation-messages.js'
import {
  type ImportReport,
  type Therapist,
  type TherapistInput,
  TherapistInputSchema,
  type TherapistPatch,
  LicenseSchema,
  TherapistSchema,
  type TherapistSearchQuery,
} from './directory-schemas.js'
import type { DirectoryIndex } from './index/directory-index.js'
import type { IndexSync } from './index/index-sync.js'
import { type FacetRow, facetCounts, FacetCountCache } from './search/search-facets.js'
import { applied, cursorKey, DISTANCE_CANDIDATES, MAX_DISTANCE_CANDIDATES, type ResolvedSearch, resolveSearch } from './search/search-request.js'
import { facetStatement, moreOfficesWithinRadius, type PageRow, pageStatement, textQueryStatement } from './search/search-sql.js'
import { HitFormatter, hitJson } from './search/hits.js'
import { makeSnippets } from './search/snippet.js'
import { type ParsedTextQuery, parseTsQuery } from './search/text-query.js'
import { importNdjson } from './therapist-import.js'
import { profileJsonSql } from './therapist-row.js'
import { INSERT_NEW, type NormalizeOptions, normalizeTherapist, profileToInput, type TherapistRow, UPDATE_BY_ID } from './therapist-write.js'
import { loadVocabulary, type Vocabulary, type VocabularyKind, type VocabularyTerm } from './vocabulary.js'

/** The full profile as JSON text, built by Postgres (TherapistSchema's members, see therapist-row.ts). */
const PROFILE_JSON = profileJsonSql(Object.keys(TherapistSchema.shape), { license: Object.keys(LicenseSchema.shape) })
const LIVE_BY_ID = `FROM therapist t JOIN vocabulary_term lt ON lt.kind = 'license_type' AND lt.slug = t.license_type
WHERE t.id = $1::uuid AND t.deleted_at IS NULL`

export const PROFILE_SQL = `SELECT ${PROFILE_JSON} AS json
${LIVE_BY_ID}`

/** The profile with the content hash it was read at: a patch writes only if the hash is still the same. */
const PROFILE_FOR_PATCH_SQL = `SELECT ${PROFILE_JSON} AS json, t.content_hash AS hash
${LIVE_BY_ID}`

/** An `If-Match` check: given the profile's JSON text as GET serves it, whether the write may go ahead. */
export type Precondition = (profileJson: string) => boolean

/** A patch re-reads and re-merges at most this many times while other writes keep changing the therapist, then answers 409. */
export const PATCH_ATTEMPTS = 5

/**
 * The therapist directory: vocabularies, search, profiles and curation. Reads return JSON text
 * built by Postgres (see therapist-search.ts for why); writes go through one normalizing path.
 */
export interface DirectoryServiceOptions {
  db: Pick<Database, 'query' | 'prisma'>
  /** The in-process index (index/), when the directory keeps one; without it every search is SQL alone. */
  index?: IndexSync
  log?: FastifyBaseLogger
  /** SQL alone: how long facet counts are reused (FACET_CACHE_SECONDS); 0 turns the cache off. */
  facetCacheMs?: number
  /** sort=distance in SQL: how many nearest offices the first try visits (tests make it small to exercise the widening). */
  distanceCandidates?: number
  /** Told which way each search was answered (a metric). */
  onSearch?: (engine: 'index' | 'sql') => void
  /** The formatter of the index's pages (search/hits.ts), shared with whoever tells it of changes. */
  hitFormatter?: HitFormatter
  /**
   * Where directory reads go, chosen per request: a healthy read replica, or the primary (src/db/replicas.ts).
   * Searches without the index, profiles, vocabularies and text parsing use it; writes, the reads a write
   * answers with, and what the index path reads (kept with the index, which follows the primary) use `db`.
   */
  reads?: () => Pick<Database, 'query' | 'prisma'>
  /**
   * How long after a commit a read target may still show the old rows (the replicas' lag bound; 0 with the
   * primary alone): caches filled from a replica are cleared once more after it.
   */
  staleReadMs?: number
}

/** Parsed text queries and stemmed words kept for reuse: both depend on nothing but their text. */
const TEXT_QUERIES_KEPT = 2_000
const STEMS_KEPT = 100_000

export function createDirectoryService({
  db,
  index,
  log,
  facetCacheMs = 0,
  distanceCandidates = DISTANCE_CANDIDATES,
  onSearch,
  hitFormatter = new HitFormatter(db),
  reads = () => db,
  staleReadMs = 0,
}: DirectoryServiceOptions) {
  let vocabularyLoad: Promise<Vocabulary> | undefined
  const facetCache = new FacetCountCache(facetCacheMs)

  /**
   * Drops what was cached of the directory's data once it changed (here or, through the change feed, on
   * any instance). A replica may still serve the old rows for up to `staleReadMs`, and a cache refilled
   * from it meanwhile would keep them: so the cache is dropped again once that time has passed.
   */
  function forget(what: 'therapists' | 'vocabulary' | 'all'): void {
    const drop = () => {
      if (what !== 'vocabulary') facetCache.clear()
      if (what !== 'therapists') vocabularyLoad = undefined
    }
    drop()
    if (staleReadMs > 0) setTimeout(drop, staleReadMs).unref()
  }

  /** The vocabularies change only with a migration (the change feed says so): one load until then. */
  function vocabulary(): Promise<Vocabulary> {
    vocabularyLoad ??= loadVocabulary(reads())
      // A replica that cannot answer: the primary can (the other reads fall back in src/db/replicas.ts).
      .catch((error: unknown) => {
        if (isConnectionError(error)) return loadVocabulary(db)
        throw error
      })
      .catch((error: unknown) => {
      vocabularyLoad = undefined
      throw error
    })
    return vocabularyLoad
  }

  async function profileJsonFrom(source: Pick<Database, 'query'>, id: string): Promise<string> {
    const [row] = await source.query<{ json: string }>(PROFILE_SQL, [id], { name: 'directory_profile' })
    if (!row) throw new NotFoundError('therapist', id)
    return row.json
  }

  /** What a write answers with: from the primary, so the curator reads their write. */
  const profile = async (id: string): Promise<Therapist> => TherapistSchema.parse(JSON.parse(await profileJsonFrom(db, id)))

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
      forget('therapists')
    }
  }

  /** After a request's writes, before it is answered: the index holds them (and any other instance's before them). */
  async function settle(): Promise<void> {
    await index?.barrier()
  }

  /** Postgres's reading of `q` (parsed, stemmed), kept: it depends on nothing but the text. */
  const textQueries = new LRUCache<string, ParsedTextQuery>({
    max: TEXT_QUERIES_KEPT,
    fetchMethod: async (q) => {
      const statement = textQueryStatement(q)
      const [row] = await reads().query<{ query: string }>(statement.sql, statement.params)
      try {
        return parseTsQuery(row?.query ?? '')
      } catch (error) {
        // Text Postgres printed that the reader does not know: answer with SQL alone, which needs no reading.
        log?.warn({ err: error }, 'directory: could not read a text query back; searching it with SQL')
        return { printed: row?.query ?? '', tree: { op: 'empty' }, supported: false, lexemes: [], negates: true }
      }
    },
  })

  /** Each word's stem as the english text search configuration makes it (null: a stop word), for snippets. */
  const stems = new LRUCache<string, { lexeme: string | null }>({ max: STEMS_KEPT })
  async function stem(words: string[]): Promise<Map<string, string | null>> {
    const result = new Map<string, string | null>()
    const missing: string[] = []
    for (const word of words) {
      const known = stems.get(word)
      if (known === undefined) missing.push(word)
      else result.set(word, known.lexeme)
    }
    if (missing.length > 0) {
      const rows = await reads().query<{ word: string; lexeme: string | null }>(
        `SELECT w AS word, (ts_lexize('english_stem', w))[1] AS lexeme FROM unnest($1::text[]) AS w`,
        [missing],
      )
      for (const { word, lexeme } of rows) {
        stems.set(word, { lexeme })
        result.set(word, lexeme)
      }
    }
    return result
  }

  /** Hits as JSON: with `q`, each hit's snippet (from its bio) and rank are added to what SQL formatted. */
  async function finishHits(rows: PageRow[], text: ParsedTextQuery | undefined): Promise<string[]> {
    if (text === undefined) return rows.map((row) => row.json)
    const snippets = await makeSnippets(
      rows.map((row) => row.bio ?? ''),
      text.lexemes,
      stem,
    )
    return rows.map((row, i) => `${row.json},"snippet":${JSON.stringify(snippets[i] ?? '')},"rank":${row.rank ?? 'null'}}}`)
  }

  const searchResult = (search: ResolvedSearch, hits: string[], nextCursor: string | null, facets: FacetRow[] | null) =>
    `{"data":[${hits.join(',')}],"page":${JSON.stringify({ nextCursor })},"facets":${JSON.stringify(facets === null ? null : facetCounts(search, facets))},"applied":${JSON.stringify(applied(search))}}`

  /** The index chooses the page and counts the facets; Postgres formats the page's hits. */
  async function searchWithIndex(search: ResolvedSearch, text: ParsedTextQuery | undefined, current: DirectoryIndex): Promise<string> {
    const answer = current.answer(search, text)
    const kept = answer.hits.slice(0, search.limit)
    const last = kept.at(-1)
    const nextCursor = answer.hits.length > search.limit && last !== undefined ? encodeCursor(cursorKey(search, last.cursor)) : null
    const telehealthWanted = search.includeTelehealth && (search.location?.state ?? search.state ?? undefined) !== undefined
    const rows = (await hitFormatter.hydrate(search, kept, text?.printed ?? null)).map(
      (row): PageRow => ({ id: row.hit.id, json: hitJson(search, row, telehealthWanted), bio: row.bio ?? undefined, rank: row.rank ?? undefined }),
    )
    return searchResult(search, await finishHits(rows, text), nextCursor, answer.facets)
  }

  /** SQL alone: the page statement, and the facet counts' statement beside it. */
  async function searchWithSql(search: ResolvedSearch, text: ParsedTextQuery | undefined): Promise<string> {
    // One target for all of one search's statements, so its page and its counts agree.
    const db = reads()
    const facetSql = facetStatement(search)
    const facetQuery = facetSql
      ? facetCache.get(search, async () => {
          const [counts] = await db.query<Record<string, number>>(facetSql.sql, facetSql.params)
          return facetSql.columns.map(({ facet, value }, i): FacetRow => ({ facet, value, count: Number(counts?.[`c${i}`] ?? 0) }))
        })
      : Promise.resolve(null)
    // Awaited below; until then a failure must not count as unhandled if the page query fails first.
    facetQuery.catch(() => undefined)
    // sort=distance visits a bounded number of nearest offices; a short page may mean the bound, not the
    // radius, ran out: then the bound widens 8x. The next page starts from the bound this one needed.
    const cursor = search.cursor
    let candidates = cursor?.s === 'distance' && cursor.b === 0 ? (cursor.k ?? distanceCandidates) : distanceCandidates
    const negates = text?.negates ?? true
    let page = pageStatement(search, candidates, negates)
    let rows = await db.query<PageRow>(page.sql, page.params)
    while (candidates < MAX_DISTANCE_CANDIDATES && !(cursor?.s === 'distance' && cursor.b === 1)) {
      const nearby = rows.filter((row) => row.bucket === 0).length
      const check = nearby <= search.limit ? moreOfficesWithinRadius(search, candidates) : null
      if (check === null) break
      const [beyond] = await db.query<{ more: boolean }>(check.sql, check.params)
      if (!beyond?.more) break
      candidates = Math.min(candidates * 8, MAX_DISTANCE_CANDIDATES)
      page = pageStatement(search, candidates, negates)
      rows = await db.query<PageRow>(page.sql, page.params)
    }
    const facetRows = await facetQuery
    const { data, page: next } = toPage(rows, search.limit, (row) => row, (row) => cursorKey(search, row, candidates))
    return searchResult(search, await finishHits(data, text), next.nextCursor, facetRows)
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
    forget,

    async terms(kind: VocabularyKind): Promise<VocabularyTerm[]> {
      return (await vocabulary()).list(kind)
    },

    /**
     * One page of search results as JSON text (TherapistSearchResult), hits and facets built by Postgres.
     * @throws BadRequestError for unknown vocabulary values, contradictory or missing parameters, bad cursors
     */
    async search(query: TherapistSearchQuery): Promise<string> {
      const search = await resolveSearch(query, await vocabulary())
      const text = search.q === undefined ? undefined : await textQueries.fetch(search.q)
      const current = index?.index
      const engine = current && (text === undefined || text.supported) ? 'index' : 'sql'
      onSearch?.(engine)
      return current && engine === 'index' ? searchWithIndex(search, text, current) : searchWithSql(search, text)
    },

    /** A profile as JSON text, for GET /v1/therapists/:id: from the read target. */
    profileJson: (id: string): Promise<string> => profileJsonFrom(reads(), id),
    profile,

    async create(input: TherapistInput): Promise<Therapist> {
      const row = await normalizeOrThrow(input)
      await write(INSERT_NEW, row)
      await settle()
      return profile(row.id)
    },

    /**
     * Merges the patch into the stored profile, validates the whole, and writes it if anything changed,
     * but only over what it read: the write checks the content hash read with the profile, and when
     * another write got in between, the patch is merged into the new content and tried again (a
     * read-merge-write without the check lost one of two concurrent patches to different fields).
     * @throws ConflictError (`concurrent_update`) when other writes win PATCH_ATTEMPTS times in a row
     */
    async patch(id: string, patch: TherapistPatch, precondition?: Precondition): Promise<Therapist> {
      for (let attempt = 1; ; attempt += 1) {
        const [read] = await db.query<{ json: string; hash: string }>(PROFILE_FOR_PATCH_SQL, [id])
        if (!read) throw new NotFoundError('therapist', id)
        // Checked on every attempt: when another write got in between, the profile is no longer the one the caller named.
        if (precondition && !precondition(read.json)) throw new PreconditionFailedError()
        const stored = TherapistSchema.parse(JSON.parse(read.json))
        const current = profileToInput(stored)
        const merged = { ...current, ...patch, license: patch.license ?? current.license }
        // The merged whole must still be a valid therapist (e.g. feeMin ≤ feeMax across old and new values).
        const parsed = TherapistInputSchema.safeParse(merged)
        if (!parsed.success) {
          throw new ValidationError(
            'The therapist would be invalid after this change.',
            parsed.error.issues.flatMap((issue) => issueFields(issue).map((error) => ({ in: 'body' as const, ...error }))),
          )
        }
        const row = await normalizeOrThrow(parsed.data, { id, clearVerifiedAt: patch.acceptingNewClientsVerifiedAt === null })
        // Nothing changes: nothing to write.
        if (row.content_hash === read.hash) return stored
        if ((await write(UPDATE_BY_ID, row, [read.hash])).length > 0) {
          await settle()
          return profile(id)
        }
        // Changed or removed since it was read: read again (a removal is a 404 then).
        if (attempt >= PATCH_ATTEMPTS) {
          throw new ConflictError('Other requests kept changing this therapist while the change was being applied; nothing was written. Read it again and retry.', 'concurrent_update')
        }
      }
    },

    /** Soft delete: hidden from search and profiles at once; an import of the same externalId restores it. */
    async remove(id: string, precondition?: Precondition): Promise<void> {
      if (precondition) {
        // Removed only if still the profile the caller named: the write checks the content hash read with it.
        const [read] = await db.query<{ json: string; hash: string }>(PROFILE_FOR_PATCH_SQL, [id])
        if (!read) throw new NotFoundError('therapist', id)
        if (!precondition(read.json)) throw new PreconditionFailedError()
        const rows = await commit<{ id: string }>(
          `UPDATE therapist SET deleted_at = now(), updated_at = now() WHERE id = $1::uuid AND deleted_at IS NULL AND content_hash = $2::text RETURNING id`,
          [id, read.hash],
        )
        if (rows.length === 0) throw new PreconditionFailedError()
      } else {
        const rows = await commit<{ id: string }>(
          `UPDATE therapist SET deleted_at = now(), updated_at = now() WHERE id = $1::uuid AND deleted_at IS NULL RETURNING id`,
          [id],
        )
        if (rows.length === 0) throw new NotFoundError('therapist', id)
      }
      await settle()
    },

    /** NDJSON import (therapist-import.ts), answered once the index holds every line written. */
    async importNdjson(body: Readable): Promise<ImportReport> {
      const report = await importNdjson(body, await vocabulary(), (sql, params) => commit(sql, params))
      await settle()
      return report
    },
  }
}

export type DirectoryService = ReturnType<typeof createDirectoryService>

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error).code === '23505'
}
