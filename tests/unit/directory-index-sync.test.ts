import { describe, expect, it } from 'vitest'
import type { Database, Listener } from '../../src/db/database.js'
import { IndexSync } from '../../src/modules/directory/index/index-sync.js'
import type { ResolvedSearch } from '../../src/modules/directory/search/search-request.js'
import { parseTsQuery } from '../../src/modules/directory/search/text-query.js'
import { Vocabulary } from '../../src/modules/directory/vocabulary.js'
import { createLogger } from '../../src/logger.js'

/**
 * IndexSync against a hand-made database that plays the interleavings a real one allows only now
 * and then: a write that commits between two statements of the build, a writer's marker that does
 * not come back in time. One therapist, row number 1; its words change from "older" to "newer".
 */

const ID = '00000000-0000-4000-8000-000000000001'

interface Version {
  seq: number
  words: string[]
}

/** The row as the build and the re-read print it (index-sync.ts ROW_JSON): words and tags last but one and two. */
const rowJson = (version: Version, withText: boolean) =>
  JSON.stringify([
    1, ID, version.seq, true, 'Ann Example', 100, true, false, ['cbt'], [], ['individuals'], ['telehealth'], 'lcsw', [], ['CA'], ['en'], [],
    withText ? version.words : null, withText ? version.words : null, null,
  ])

const int4s = (numbers: number[]) => {
  const bytes = new Uint8Array(numbers.length * 4)
  numbers.forEach((n, i) => new DataView(bytes.buffer).setInt32(i * 4, n))
  return bytes
}

interface FakeOptions {
  /** What each statement of the build sees; `postings` may see another version than `rows` (its own snapshot). */
  build: { rows: Version; postings: Version }
  /** Notified during the build (a write's NOTIFY), before the build ends. */
  notifyDuringBuild?: boolean
  /** The row as a re-read sees it (the latest committed version). */
  current: () => Version
  /** Whether a writer's marker comes back through the feed. */
  echoMarkers: boolean
}

function fakeDatabase(options: FakeOptions): Pick<Database, 'query' | 'listen'> & { notify(payload: string): void } {
  let onMessage: ((payload: string) => void) | undefined
  const notify = (payload: string) => onMessage?.(payload)
  const query = async <Row,>(sql: string, params: unknown[] = []): Promise<Row[]> => {
    await Promise.resolve()
    const rows = (list: unknown[]) => list as Row[]
    if (sql.includes('min(row_no) AS low')) return rows([{ low: 1, high: 1, live: 1 }])
    if (sql.includes('ORDER BY primary_postal_code')) return rows([{ rows: '1' }])
    if (sql.includes('AS by_name')) return rows([{ by_name: '1', by_fee: '1' }])
    if (sql.includes('GROUP BY lexeme')) {
      if (options.notifyDuringBuild) notify('1')
      // search_vector and tags_vector alike: the test's words are all in the name and tags.
      return rows(options.build.postings.words.map((lexeme) => ({ lexeme, rows: int4s([1]) })))
    }
    if (sql.includes('t.row_no >= $1')) return rows([{ row: rowJson(options.build.rows, false) }])
    if (sql.includes('t.row_no = ANY')) return rows([{ row: rowJson(options.current(), true) }])
    if (sql.includes('pg_notify')) {
      if (options.echoMarkers) setTimeout(() => notify(String(params[1])), 1)
      return rows([])
    }
    throw new Error(`unexpected statement: ${sql.slice(0, 80)}`)
  }
  return {
    notify,
    query,
    async listen(_channel, message): Promise<Listener> {
      onMessage = message
      return { close: async () => undefined }
    },
  }
}

const NO_FACET_TERMS = { modality: [], specialty: [], format: [], clientFocus: [], licenseType: [] }
function searchFor(q: string): ResolvedSearch {
  return {
    q, modality: [], modalityMatch: 'any', specialty: [], clientFocus: [], format: [], licenseType: [], languages: [], insurance: [],
    state: undefined, city: undefined, location: undefined, includeTelehealth: false, maxFee: undefined, slidingScale: undefined,
    acceptingNewClients: undefined, sort: 'name', facets: [], facetTerms: NO_FACET_TERMS, limit: 10, cursor: undefined,
  }
}

async function started(db: Pick<Database, 'query' | 'listen'>): Promise<IndexSync> {
  const sync = new IndexSync({ db, vocabulary: async () => new Vocabulary([]), log: createLogger({ LOG_LEVEL: 'silent' }), maxBytes: 2 ** 30, retryMs: 10 })
  sync.start()
  await sync.settled(5000)
  // The flush after the build, and any gathered notification.
  await new Promise((resolve) => setTimeout(resolve, 50))
  return sync
}

/** Whether the index (if it answers at all) finds the therapist by `word`; null when searches would go to SQL. */
function findsBy(sync: IndexSync, word: string): boolean | null {
  const index = sync.index
  if (index === null) return null
  return index.answer(searchFor(word), parseTsQuery(`'${word}'`)).hits.some((hit) => hit.id === ID)
}

describe('IndexSync', () => {
  it('builds, and follows a write notified after the build', async () => {
    let current: Version = { seq: 5, words: ['older'] }
    const db = fakeDatabase({ build: { rows: current, postings: current }, current: () => current, echoMarkers: true })
    const sync = await started(db)
    expect(sync.status().state).toBe('ready')
    expect(findsBy(sync, 'older')).toBe(true)
    current = { seq: 6, words: ['newer'] }
    db.notify('1')
    await sync.barrier()
    expect(findsBy(sync, 'newer')).toBe(true)
    expect(findsBy(sync, 'older')).toBe(false)
    await sync.close()
  })

  it('holds the latest words of a row written while the build read it (its row statement saw the write, its lexeme statement did not)', async () => {
    // The build reads a chunk's rows and its lexemes in separate statements at once, each with its own
    // snapshot: a write committing between them gives the row's new change_seq with its old words.
    // The write's notification is re-read after the build at the same change_seq, and ignored.
    const newer: Version = { seq: 6, words: ['newer'] }
    const db = fakeDatabase({ build: { rows: newer, postings: { seq: 5, words: ['older'] } }, notifyDuringBuild: true, current: () => newer, echoMarkers: true })
    const sync = await started(db)
    await sync.barrier()
    expect(findsBy(sync, 'newer'), 'searching the new words').toBe(true)
    expect(findsBy(sync, 'older'), 'searching the old words').toBe(false)
    await sync.close()
  })

  it('does not answer from an index it cannot show holds a write, once the writer gave up waiting for it', async () => {
    // barrier(): "Gives up after timeoutMs (the index is then behind, and searches use SQL until it catches up)".
    let current: Version = { seq: 5, words: ['older'] }
    const db = fakeDatabase({ build: { rows: current, postings: current }, current: () => current, echoMarkers: false })
    const sync = await started(db)
    // A write commits; its notification (and the writer's marker after it) are late.
    current = { seq: 6, words: ['newer'] }
    await sync.barrier(30)
    // Searches now either go to SQL (null) or find the write: never the old answer.
    expect([null, true]).toContain(findsBy(sync, 'newer'))
    await sync.close()
  })
})
