import { type CursorFields, DISTANCE_CANDIDATES, NO_FEE, type ResolvedSearch, selectedFacetValues } from './search-request.js'
import { FACETS, type FacetName } from '../directory-schemas.js'

/**
 * Directory search as SQL. Everything a page needs — filtering, ordering, the keyset for the next
 * page, and each hit's JSON (including why it matched) — is computed by Postgres in one statement,
 * so Node only concatenates finished JSON text. The same statement runs on Postgres and PGlite.
 *
 * Query shapes (chosen from EXPLAIN ANALYZE at 100k therapists, see docs/directory-query-plans.md):
 * - sort=name / fee: an ordered index scan on (name, id) or (fee key, id) that filters in-row and
 *   stops after limit+1 hits; GIN bitmaps take over when a filter is selective. With `state`, sort=name
 *   merges ordered scans of (primary_state, [accepting,] name, id) and of multi-state therapists.
 * - sort=relevance: matches in the name or the therapist's own modalities/specialties first, then
 *   matches only in the bio, each tier in name order (ordered scans that stop after a page).
 * - sort=distance: a KNN scan on the offices' GiST index (nearest first, over a bounded number of
 *   offices that the service widens when needed), joined to the therapist row; a therapist is listed
 *   once, at its nearest qualifying office.
 * - facets: one scan of the candidates, counting trigger-kept bitmasks with count(*) FILTER.
 * Cursors hold the sort key of the last hit plus its id, so pages never repeat or skip a therapist
 * whose sort key did not change between requests, whatever was inserted or edited meanwhile.
 */

/** Positional parameters, each with an explicit cast so both backends type them alike. */
class Params {
  readonly values: unknown[] = []
  add(value: unknown, cast: string): string {
    this.values.push(value)
    return `$${this.values.length}::${cast}`
  }
}

/** The search vocabulary as SQL fragments over one request's parameters. */
class SearchSql {
  readonly params = new Params()
  private readonly point: string | undefined
  private radiusParam: string | undefined
  private readonly tsquery: string | undefined

  constructor(
    readonly search: ResolvedSearch,
    /** sort=distance: how many nearest offices the KNN scan may visit. */
    readonly candidates = DISTANCE_CANDIDATES,
    /**
     * `q` excludes a word (the tsquery has a NOT, however it was typed: `-x`, `a - b`, `(-x)`): then a
     * match in the name or tags does not imply a match of the whole text, and relevance's first tier
     * must test the whole text too. Unknown: assume so.
     */
    readonly textNegates = true,
  ) {
    const p = this.params
    if (search.location) {
      this.point = `ll_to_earth(${p.add(search.location.latitude, 'float8')}, ${p.add(search.location.longitude, 'float8')})`
    }
    if (search.q !== undefined) this.tsquery = buildTsQuery(search.q, p)
  }

  /** The radius in metres as a parameter, added when first used (an unused parameter has no type to infer). */
  private get radiusM(): string | undefined {
    if (this.search.location === undefined) return undefined
    this.radiusParam ??= this.params.add(this.search.location.radiusKm * 1000, 'float8')
    return this.radiusParam
  }

  /** Conditions on one office row: in the state and city asked for, and within the radius (with the box, for index use). */
  officeConds(o: string, box = true): string[] {
    const { search, params: p } = this
    const conds: string[] = []
    if (search.state !== undefined) conds.push(`${o}.state = ${p.add(search.state, 'text')}`)
    if (search.city !== undefined) conds.push(`lower(${o}.city) = ${p.add(search.city.toLowerCase(), 'text')}`)
    if (this.point !== undefined && this.radiusM !== undefined) {
      const ll = `ll_to_earth(${o}.latitude, ${o}.longitude)`
      if (box) conds.push(`earth_box(${this.point}, ${this.radiusM}) @> ${ll}`)
      conds.push(`earth_distance(${ll}, ${this.point}) <= ${this.radiusM}`)
    }
    return conds
  }

  /** Has an office that satisfies the place filters (null when there are none). */
  officeMatch(): string | null {
    const { search } = this
    if (search.location === undefined && search.city === undefined) {
      // State alone is answered in-row from the denormalized office_states.
      return search.state === undefined ? null : `t.office_states @> ARRAY[${this.params.add(search.state, 'text')}]`
    }
    if (search.location !== undefined) {
      return `t.id IN (SELECT o.therapist_id FROM therapist_office o WHERE ${this.officeConds('o').join(' AND ')})`
    }
    return `EXISTS (SELECT 1 FROM therapist_office o WHERE o.therapist_id = t.id AND ${this.officeConds('o').join(' AND ')})`
  }

  private searcherState(): string | undefined {
    return this.search.includeTelehealth ? (this.search.location?.state ?? this.search.state ?? undefined) : undefined
  }

  wantsTelehealth(): boolean {
    return this.searcherState() !== undefined
  }

  /** Offers telehealth and is licensed in the searcher's state (null when not asked for). */
  telehealthMatch(): string | null {
    const state = this.searcherState()
    if (state === undefined) return null
    return `(t.formats @> ARRAY['telehealth'] AND t.licensed_states @> ARRAY[${this.params.add(state, 'text')}])`
  }

  /** The full-text match on the whole search vector (null without `q`). */
  textMatch(): string | null {
    return this.tsquery === undefined ? null : `t.search_vector @@ ${this.tsquery}`
  }

  /**
   * Every filter of the search as SQL conditions on `t`.
   * @param place false leaves out the place filters, for queries that apply them their own way
   * @param facets false leaves out the facet filters (modality, specialty, …), which facet counting applies as bit tests
   * @param text false leaves out the full-text match, which relevance's first tier replaces
   */
  filters({ place = true, facets = true, text = true } = {}): string[] {
    const { search, params: p } = this
    const conds = ['t.deleted_at IS NULL']
    if (facets) {
      if (search.modality.length > 0) conds.push(`t.modalities ${search.modalityMatch === 'all' ? '@>' : '&&'} ${p.add(search.modality, 'text[]')}`)
      if (search.specialty.length > 0) conds.push(`t.specialties && ${p.add(search.specialty, 'text[]')}`)
      if (search.clientFocus.length > 0) conds.push(`t.client_focus && ${p.add(search.clientFocus, 'text[]')}`)
      if (search.format.length > 0) conds.push(`t.formats && ${p.add(search.format, 'text[]')}`)
      if (search.licenseType.length > 0) conds.push(`t.license_type = ANY(${p.add(search.licenseType, 'text[]')})`)
    }
    if (search.languages.length > 0) {
      const exact = search.languages.filter((tag) => tag.includes('-'))
      const primary = search.languages.filter((tag) => !tag.includes('-'))
      const alternatives: string[] = []
      if (exact.length > 0) alternatives.push(`t.languages && ${p.add(exact, 'text[]')}`)
      if (primary.length > 0) alternatives.push(`EXISTS (SELECT 1 FROM unnest(t.languages) l WHERE split_part(l, '-', 1) = ANY(${p.add(primary, 'text[]')}))`)
      conds.push(`(${alternatives.join(' OR ')})`)
    }
    if (search.insurance.length > 0) conds.push(`EXISTS (SELECT 1 FROM unnest(t.insurance) i WHERE lower(i) = ANY(${p.add(search.insurance, 'text[]')}))`)
    if (search.maxFee !== undefined) conds.push(`t.fee_min <= ${p.add(search.maxFee, 'int4')}`)
    if (search.slidingScale !== undefined) conds.push(`t.sliding_scale = ${p.add(search.slidingScale, 'bool')}`)
    if (search.acceptingNewClients !== undefined) conds.push(`t.accepting_new_clients = ${p.add(search.acceptingNewClients, 'bool')}`)
    const textMatch = this.textMatch()
    if (text && textMatch !== null) conds.push(textMatch)
    if (place) {
      const office = this.officeMatch()
      const telehealth = this.telehealthMatch()
      if (office !== null && telehealth !== null) conds.push(`(${office} OR ${telehealth})`)
      else if (office !== null) conds.push(office)
    }
    return conds
  }

  /** ts_rank of a hit, shown in `match.rank` (the order itself is by tier, then name). */
  rank(): string {
    // Normalization 1 divides by 1 + log(length), so a long bio does not win by repetition alone.
    return this.tsquery === undefined ? 'NULL::float8' : `ts_rank(t.search_vector, ${this.tsquery}, 1)::float8`
  }

  /**
   * One hit's columns: `json`, the hit as JSON text: the card the trigger keeps ready (static members,
   * without its closing brace), then where the therapist is and why they matched. Only the dynamic parts
   * are formatted per request, and with no filter asking for them they are constants the planner folds.
   * With `q` the text stops before the snippet, which Node makes from `bio` (see snippet.ts: ts_headline
   * re-parsed every hit's bio and was two thirds of a full-text page's statement), and `rank` follows it.
   */
  hitColumns(via: Part): string {
    const { search } = this
    const location: Part =
      this.point === undefined
        ? { sql: 't.location_json' }
        : {
            sql: `CASE WHEN loc.city IS NULL THEN 'null' ELSE '{"city":' || to_json(loc.city)::text || ',"state":' || to_json(loc.state)::text || ',"postalCode":' || to_json(loc.postal_code)::text || '}' END`,
          }
    const distance: Part = this.point === undefined ? { text: 'null' } : { sql: `COALESCE(round((loc.dist_m / 1000)::numeric, 2)::text, 'null')` }
    const json = concat([
      { sql: 't.card_json' },
      { text: ',"location":' },
      location,
      { text: ',"match":{"modalities":' },
      ...matchedList('t.modalities', search.modality, search.modalityMatch === 'all' || search.modality.length === 1),
      { text: ',"specialties":' },
      ...matchedList('t.specialties', search.specialty, search.specialty.length === 1),
      { text: ',"distanceKm":' },
      distance,
      { text: ',"via":' },
      via,
      ...(this.tsquery === undefined ? [{ text: ',"snippet":null,"rank":null}}' }] : []),
    ])
    if (this.tsquery === undefined) return `${json} AS json`
    return `${json} AS json, t.bio, round(${this.rank()}::numeric, 6)::text AS rank`
  }

  /** With a location: the nearest office and its distance, for display (else the card's first office is used). */
  locationLateral(): string {
    if (this.point === undefined) return ''
    const ll = 'll_to_earth(o.latitude, o.longitude)'
    return `LEFT JOIN LATERAL (SELECT o.city, o.state, o.postal_code, earth_distance(${ll}, ${this.point}) AS dist_m FROM therapist_office o
      WHERE o.therapist_id = t.id ORDER BY ${ll} <-> ${this.point}, o.position LIMIT 1) loc ON true`
  }

  /** `match.via`: null without a location; with one, `office` within the radius, else `telehealth`. */
  via(): Part {
    if (this.search.location === undefined) return { text: 'null' }
    if (!this.wantsTelehealth()) return { text: '"office"' }
    return { sql: `CASE WHEN loc.dist_m <= ${this.radiusM} THEN '"office"' ELSE '"telehealth"' END` }
  }

  /** Rows of (json, key columns) for one page plus one, in order. */
  pageSql(): string {
    const { search, params: p } = this
    const limit = p.add(search.limit + 1, 'int4')
    const cursor = search.cursor
    const via = this.via()

    switch (search.sort) {
      case 'name':
      case 'fee': {
        const key = search.sort === 'name' ? 't.name' : `COALESCE(t.fee_min, ${NO_FEE})`
        if (search.sort === 'name' && search.state !== undefined && this.point === undefined && search.city === undefined && !this.wantsTelehealth()) {
          return this.stateByNameSql(via, limit)
        }
        const conds = this.filters()
        if (cursor?.s === 'name') conds.push(`(t.name, t.id) > (${p.add(cursor.n, 'text')}, ${p.add(cursor.id, 'uuid')})`)
        if (cursor?.s === 'fee') conds.push(`(COALESCE(t.fee_min, ${NO_FEE}), t.id) > (${p.add(cursor.f, 'int4')}, ${p.add(cursor.id, 'uuid')})`)
        if (this.point === undefined) {
          // One level: the ordered index scan stops after limit+1 rows, and only those are formatted.
          return `SELECT ${this.hitColumns(via)}, ${key} AS key, t.id FROM therapist t
            WHERE ${conds.join(' AND ')} ORDER BY ${key}, t.id LIMIT ${limit}`
        }
        // With a location, pick the page first, then look up each hit's nearest office (not every candidate's).
        return `SELECT ${this.hitColumns(via)}, s.key, s.id FROM (
          SELECT t.id, ${key} AS key FROM therapist t WHERE ${conds.join(' AND ')} ORDER BY ${key}, t.id LIMIT ${limit}
        ) s JOIN therapist t ON t.id = s.id ${this.locationLateral()} ORDER BY s.key, s.id`
      }
      case 'relevance': {
        // Tier 1: the query matches the name or the therapist's own modalities and specialties (tags_vector);
        // tier 2: it matches only in the bio. Tier 1 is an ordered (name, id) scan that stops after a page.
        // Tier 2 runs only when tier 1 cannot fill the page (a one-time filter on tier 1's count), and by
        // bitmap + sort (the `|| ''` keeps the planner off the name index): the planner cannot see that
        // bio and tag matches go together, and a name-ordered scan for a bio-only match that does not
        // exist read the whole table (680 ms for "grief").
        const tags = `t.tags_vector @@ ${this.tsquery ?? 'NULL'}`
        const keyset = (tier: 1 | 2, name: string) =>
          cursor?.s === 'relevance' && cursor.b === tier ? [`(${name}, t.id) > (${p.add(cursor.n, 'text')}, ${p.add(cursor.id, 'uuid')})`] : []
        // Without a negation, a match in the tags is a match in the whole vector (a superset): tier 1 then
        // skips decompressing the 1 kB bio vector of every row it scans.
        const negates = this.textNegates
        const others = this.filters({ text: false })
        const text = this.textMatch() ?? 'true'
        const tier1Filters = negates ? [...others, text] : others
        const tier2 = (gate: string[]) => `SELECT 2 AS bucket, t.id, t.name FROM therapist t
          WHERE ${[...gate, ...others, text, `NOT (${tags})`, ...keyset(2, "(t.name || '')")].join(' AND ')}
          ORDER BY t.name || '', t.id LIMIT ${limit}`
        const pageRows =
          cursor?.s === 'relevance' && cursor.b === 2
            ? tier2([])
            : `WITH tier1 AS MATERIALIZED (
                SELECT 1 AS bucket, t.id, t.name FROM therapist t
                WHERE ${[...tier1Filters, tags, ...keyset(1, 't.name')].join(' AND ')} ORDER BY t.name, t.id LIMIT ${limit}
              )
              SELECT * FROM tier1 UNION ALL (${tier2([`(SELECT count(*) FROM tier1) < ${limit}`])})`
        return `SELECT ${this.hitColumns(via)}, s.bucket, s.name, s.id FROM (
          SELECT * FROM (${pageRows}) u ORDER BY bucket, name, id LIMIT ${limit}
        ) s JOIN therapist t ON t.id = s.id ${this.locationLateral()} ORDER BY s.bucket, s.name, s.id`
      }
      case 'distance':
        return this.distancePageSql(limit, via)
    }
  }

  /**
   * state=XX, sort=name: therapists whose first office is in the state come from an ordered scan of
   * (primary_state, [accepting,] name, id); the rare ones with another office there, from a GIN index
   * holding only multi-state therapists. Both branches stop after a page; their union is re-sorted.
   */
  private stateByNameSql(via: Part, limit: string): string {
    const { search, params: p } = this
    const state = p.add(search.state, 'text')
    const conds = this.filters({ place: false })
    const cursor = search.cursor?.s === 'name' ? search.cursor : undefined
    if (cursor !== undefined) conds.push(`(t.name, t.id) > (${p.add(cursor.n, 'text')}, ${p.add(cursor.id, 'uuid')})`)
    const branch = (where: string) => `(SELECT t.id, t.name AS key FROM therapist t WHERE ${[...conds, where].join(' AND ')} ORDER BY t.name, t.id LIMIT ${limit})`
    return `SELECT ${this.hitColumns(via)}, s.key, s.id FROM (
        SELECT * FROM (${branch(`t.primary_state = ${state}`)} UNION ALL
          ${branch(`(CASE WHEN cardinality(t.office_states) > 1 THEN t.office_states END) @> ARRAY[${state}] AND t.primary_state IS DISTINCT FROM ${state}`)}) u
        ORDER BY key, id LIMIT ${limit}
      ) s JOIN therapist t ON t.id = s.id ORDER BY s.key, s.id`
  }

  private distancePageSql(limit: string, via: Part): string {
    const { search, params: p } = this
    const point = this.point ?? ''
    const cursor = search.cursor?.s === 'distance' ? search.cursor : undefined
    const ll = (o: string) => `ll_to_earth(${o}.latitude, ${o}.longitude)`
    const parts: string[] = []
    // The place filters are the office conditions (nearby) and the telehealth test (the second bucket).
    const filters = this.filters({ place: false })

    if (cursor === undefined || cursor.b === 0) {
      // Offices nearest first: a KNN scan of the GiST index, bounded to the `candidates` nearest
      // offices so an empty area cannot walk the whole index (the service widens it when needed).
      // Not `earth_box @>` + ORDER BY: the planner estimates the box at 0.1 % of the table, then
      // sorts every office in it and joins each to its therapist (20 ms at 100k in San Francisco,
      // against 1 ms for the KNN scan that stops after limit+1 hits).
      // The therapist is listed at its nearest office that fits the place filters.
      const conds = [...this.officeConds('o', false), ...filters]
      conds.push(`NOT EXISTS (SELECT 1 FROM therapist_office o2 WHERE o2.therapist_id = o.therapist_id AND o2.id <> o.id
        AND ${this.officeConds('o2').join(' AND ')}
        AND ((${ll('o2')} <-> ${point}) < o.chord OR ((${ll('o2')} <-> ${point}) = o.chord AND o2.position < o.position)))`)
      if (cursor !== undefined) {
        // The cursor's therapist's chord as this engine computes it (the directory index computes chords in
        // Node, whose sine and cosine may differ from the C library's in the last bit); the cursor's own if it
        // no longer qualifies.
        const id = p.add(cursor.id, 'uuid')
        const c = `COALESCE((SELECT min(${ll('o3')} <-> ${point}) FROM therapist_office o3 WHERE o3.therapist_id = ${id}
          AND ${this.officeConds('o3').join(' AND ')}), ${p.add(cursor.c, 'float8')})`
        conds.push(`(o.chord > ${c} OR (o.chord = ${c} AND t.id > ${id}))`)
      }
      parts.push(`(SELECT 0 AS bucket, t.id, o.id AS office_id, o.chord, NULL::text AS name
        FROM (SELECT o.id, o.therapist_id, o.position, o.state, o.city, o.latitude, o.longitude, (${ll('o')} <-> ${point}) AS chord
              FROM therapist_office o ORDER BY ${ll('o')} <-> ${point} LIMIT ${p.add(this.candidates, 'int4')}) o
        JOIN therapist t ON t.id = o.therapist_id
        WHERE ${conds.join(' AND ')}
        ORDER BY o.chord, t.id LIMIT ${limit})`)
    }
    const telehealth = this.telehealthMatch()
    if (telehealth !== null) {
      // Then telehealth therapists licensed in the searcher's state with no office in the area, by name.
      const conds = [...filters, telehealth]
      const office = this.officeMatch()
      if (office !== null) conds.push(`NOT (${office})`)
      if (cursor?.b === 1) conds.push(`(t.name, t.id) > (${p.add(cursor.n, 'text')}, ${p.add(cursor.id, 'uuid')})`)
      parts.push(`(SELECT 1 AS bucket, t.id, NULL::uuid AS office_id, NULL::float8 AS chord, t.name
        FROM therapist t WHERE ${conds.join(' AND ')} ORDER BY t.name, t.id LIMIT ${limit})`)
    }
    if (parts.length === 0) parts.push(`(SELECT 0 AS bucket, NULL::uuid AS id, NULL::uuid AS office_id, NULL::float8 AS chord, NULL::text AS name WHERE false)`)

    return `SELECT ${this.hitColumns(via)}, s.bucket, s.chord, s.name, s.id, t.row_no AS "rowNo" FROM (
        SELECT * FROM (${parts.join(' UNION ALL ')}) u ORDER BY bucket, chord, name, id LIMIT ${limit}
      ) s JOIN therapist t ON t.id = s.id
      LEFT JOIN LATERAL (
        SELECT o.city, o.state, o.postal_code, earth_distance(${ll('o')}, ${point}) AS dist_m FROM therapist_office o
        WHERE (s.office_id IS NOT NULL AND o.id = s.office_id)
           OR (s.office_id IS NULL AND o.therapist_id = s.id)
        ORDER BY ${ll('o')} <-> ${point}, o.position LIMIT 1
      ) loc ON true
      ORDER BY s.bucket, s.chord, s.name, s.id`
  }

  /**
   * One statement counting every requested facet, each without its own filter, in one scan: the rows
   * that pass every non-facet filter and all but at most one facet filter, and for each facet term a
   * `count(*) FILTER` on its bit with the other facets' filters as bit tests. Integer tests per row
   * instead of `unnest` + hash aggregate: 1.3 s → ~0.1 s for a country-wide search at 100k.
   * Returns the SQL and, in column order (c0, c1, …), the facet and value each count belongs to.
   */
  facetSql(): { sql: string; columns: { facet: FacetName; value: string }[] } {
    const { search } = this
    const bitsColumn: Record<FacetName, string> = {
      modality: 't.modality_bits',
      specialty: 't.specialty_bits',
      format: 't.format_bits',
      clientFocus: 't.client_focus_bits',
      licenseType: 't.license_bits',
    }
    const selected = selectedFacetValues(search)
    const mask = (facet: FacetName) =>
      search.facetTerms[facet].filter((term) => selected[facet].includes(term.slug)).reduce((bits, term) => bits | (1n << BigInt(term.bit)), 0n)
    // A facet filter as a bit test; `all` only for modalities (modalityMatch=all).
    const flag = (facet: FacetName): string | null => {
      if (selected[facet].length === 0) return null
      const m = `${mask(facet).toString()}::int8`
      return facet === 'modality' && search.modalityMatch === 'all' ? `(${bitsColumn[facet]} & ${m}) = ${m}` : `(${bitsColumn[facet]} & ${m}) <> 0`
    }
    const active = FACETS.filter((facet) => flag(facet) !== null)
    // The facet filters are applied as the bit tests above, so the base leaves them (and their parameters) out.
    const base = this.filters({ facets: false })
    const atMostOneMissing = active.length <= 1 ? [] : [`(${active.map((facet) => `(${flag(facet)})::int`).join(' + ')}) >= ${active.length - 1}`]
    const columns: { facet: FacetName; value: string }[] = []
    const counts: string[] = []
    for (const facet of search.facets) {
      const others = active.filter((other) => other !== facet).map((other) => flag(other) ?? 'true')
      for (const term of search.facetTerms[facet]) {
        const hasTerm = `(${bitsColumn[facet]} & ${(1n << BigInt(term.bit)).toString()}::int8) <> 0`
        counts.push(`count(*) FILTER (WHERE ${[...others, hasTerm].join(' AND ')})::int AS c${columns.length}`)
        columns.push({ facet, value: term.slug })
      }
    }
    return { sql: `SELECT ${counts.join(',\n  ')}\nFROM therapist t WHERE ${[...base, ...atMostOneMissing].join(' AND ')}`, columns }
  }
}


/**
 * The text query: websearch syntax ("phrases", or, -not) as typed; for plain words, the last word
 * also matches as a prefix, so "attach" finds attachment while someone is still typing.
 */
function buildTsQuery(q: string, params: Params): string {
  const websearch = `websearch_to_tsquery('english', ${params.add(q, 'text')})`
  const plain = !/["-]|\bor\b/i.test(q)
  const words = q.match(/[\p{L}\p{N}]+/gu) ?? []
  if (!plain || words.length === 0) return websearch
  const prefix = words.map((word, i) => (i === words.length - 1 ? `${word}:*` : word)).join(' & ')
  return `(${websearch} || to_tsquery('english', ${params.add(prefix, 'text')}))`
}

/** A piece of a JSON text built in SQL: a known constant, or an SQL text expression. */
type Part = { text: string } | { sql: string }

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`

/** Joins parts with ||, merging neighbouring constants into one literal so Postgres concatenates less per row. */
function concat(parts: Part[]): string {
  const merged: Part[] = []
  for (const part of parts) {
    const last = merged.at(-1)
    if ('text' in part && last !== undefined && 'text' in last) merged[merged.length - 1] = { text: last.text + part.text }
    else merged.push(part)
  }
  return merged.map((part) => ('text' in part ? literal(part.text) : part.sql)).join(' || ')
}

/**
 * The requested slugs this hit has, as a JSON array. When the filter guarantees every one (one value,
 * or modalityMatch=all) it is a constant; otherwise one cheap test per requested slug (slugs need no escaping).
 */
function matchedList(column: string, slugs: string[], allGuaranteed: boolean): Part[] {
  if (allGuaranteed || slugs.length === 0) return [{ text: JSON.stringify(slugs) }]
  const tests = slugs.map((slug) => `CASE WHEN ${literal(slug)} = ANY(${column}) THEN ${literal(JSON.stringify(slug))} END`)
  return [{ text: '[' }, { sql: `concat_ws(',', ${tests.join(', ')})` }, { text: ']' }]
}

/** A statement and its parameters, as the API runs it (and as the benchmark's floor replays it). */
export interface SqlStatement {
  sql: string
  params: unknown[]
}

export interface SearchStatements {
  page: SqlStatement
  /** One row of counts, c0…cN, each belonging to `columns[i]`. */
  facets: (SqlStatement & { columns: { facet: FacetName; value: string }[] }) | null
}

/** The page statement; `candidates` bounds the offices sort=distance visits. */
export function pageStatement(search: ResolvedSearch, candidates = DISTANCE_CANDIDATES, textNegates = true): SqlStatement {
  const page = new SearchSql(search, candidates, textNegates)
  const sql = page.pageSql()
  return { sql, params: page.params.values }
}

/** The tsquery a `q` becomes, printed by Postgres (read back by text-query.ts). */
export function textQueryStatement(q: string): SqlStatement {
  const params = new Params()
  return { sql: `SELECT (${buildTsQuery(q, params)})::text AS query`, params: params.values }
}

/** The facet counts' statement, or null when no facet is asked for. */
export function facetStatement(search: ResolvedSearch): SearchStatements['facets'] {
  if (search.facets.length === 0) return null
  const facetSql = new SearchSql(search)
  const { sql, columns } = facetSql.facetSql()
  return { sql, params: facetSql.params.values, columns }
}

/** Both statements of a first search request, as the API runs them (for the benchmark and explain.ts). */
export function searchStatements(search: ResolvedSearch, candidates = DISTANCE_CANDIDATES): SearchStatements {
  return { page: pageStatement(search, candidates), facets: facetStatement(search) }
}

/**
 * sort=distance, after a page came back short: is the office just beyond the `candidates` nearest
 * still inside the radius? Then the KNN bound cut the search short and it must run wider.
 */
export function moreOfficesWithinRadius(search: ResolvedSearch, candidates: number): SqlStatement | null {
  if (search.sort !== 'distance' || search.location === undefined) return null
  const { latitude, longitude, radiusKm } = search.location
  return {
    sql: `SELECT earth_distance(ll_to_earth(o.latitude, o.longitude), ll_to_earth($1::float8, $2::float8)) <= $3::float8 AS more
      FROM therapist_office o ORDER BY ll_to_earth(o.latitude, o.longitude) <-> ll_to_earth($1::float8, $2::float8) OFFSET $4::int4 LIMIT 1`,
    params: [latitude, longitude, radiusKm * 1000, candidates],
  }
}

/** A hit as SQL formats it: its JSON (with `q`, up to the snippet, see `finishHit`), and what its cursor needs. */
export interface PageRow extends CursorFields {
  json: string
  /** With `q`: the bio, for the snippet made in Node, and the rank as JSON text. */
  bio?: string
  rank?: string
}

