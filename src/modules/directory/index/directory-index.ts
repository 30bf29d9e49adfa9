import { FACETS, type FacetName } from '../directory-schemas.js'
import type { FacetRow } from '../search/search-facets.js'
import { type CursorFields, NO_FEE, type ResolvedSearch } from '../search/search-request.js'
import type { ParsedTextQuery, TextQuery } from '../search/text-query.js'
import type { Vocabulary, VocabularyKind } from '../vocabulary.js'
import { BitsetStore } from './bitsets.js'
import { OfficeTable, type OfficeInput } from './offices.js'
import { TermIndex } from './term-index.js'

/**
 * The directory index: every live therapist as a slot, and for each thing a search filters or counts
 * on, the slots that have it (see bitsets.ts). A search is answered here in two steps: which slots
 * match (bitset AND/OR over the filters), then which of them make the page (walking a name or fee
 * order, or the offices near a point) and how many of each facet term they hold (an AND-count per
 * term). Postgres then formats the page's hits (search/hits.ts).
 *
 * It answers exactly what the SQL of search-sql.ts answers (the tests compare both on the same data),
 * and keeps what it needs from each row, not the rows: ids, names and fee keys for ordering and
 * cursors, the terms, and the offices' points. It is built from Postgres and kept current by
 * index-sync.ts.
 */

/** A therapist as the index reads it from Postgres (index-sync.ts). */
export interface IndexRow {
  rowNo: number
  id: string
  /** therapist.change_seq: increases with every write of the row, so an older read never undoes a newer one. */
  seq: number
  /** Not soft-deleted. */
  live: boolean
  name: string
  feeMin: number | null
  accepting: boolean
  sliding: boolean
  modalities: string[]
  specialties: string[]
  clientFocus: string[]
  formats: string[]
  licenseType: string
  officeStates: string[]
  licensedStates: string[]
  languages: string[]
  /** lower(insurer), as Postgres lowers it. */
  insurance: string[]
  /** Lexemes of name and modality/specialty keywords (tags_vector). */
  tags: string[]
  /** Lexemes of everything searchable (search_vector). */
  words: string[]
  offices: OfficeInput[]
}

/** One hit of a page: the therapist, where it was found, why it matched, and what its cursor needs. */
export interface IndexHit {
  id: string
  /** The requested modalities and specialties it has, in the order requested. */
  matched: { modalities: string[]; specialties: string[] }
  /** sort=distance, nearby hits: the office it was found at (therapist_office.position). */
  officePosition: number | null
  cursor: CursorFields
}

export interface IndexAnswer {
  /** Up to limit + 1 hits, in page order (the extra one only says there is a next page). */
  hits: IndexHit[]
  facets: FacetRow[] | null
}

/** The words of a query that is only words and alternatives of words, or null. */
function alternatives(node: TextQuery): { lexeme: string; prefix: boolean }[] | null {
  if (node.op === 'word') return [node]
  if (node.op !== 'or') return null
  const left = alternatives(node.args[0])
  const right = alternatives(node.args[1])
  return left === null || right === null ? null : [...left, ...right]
}

/** A set of slots a search filters by, and whether a slot must be out of it (e.g. slidingScale=false). */
interface Filter {
  set: number
  out: boolean
}

/** A page walks its order this far before it ANDs the filters instead (a rare match would walk it all). */
const WALK_STEPS = 4096

const FACET_KINDS: Record<FacetName, VocabularyKind> = {
  modality: 'modality',
  specialty: 'specialty',
  format: 'format',
  clientFocus: 'client_focus',
  licenseType: 'license_type',
}

/**
 * maxFee: the slots whose lowest fee is at most each of these are kept as bitsets; a search takes the
 * highest at or below its maxFee and adds the few slots between it and maxFee from the fee order.
 */
const FEE_THRESHOLDS = [
  ...Array.from({ length: 41 }, (_, i) => i * 10), // 0–400 by 10
  ...Array.from({ length: 12 }, (_, i) => 450 + i * 50), // 450–1000 by 50
  ...Array.from({ length: 16 }, (_, i) => 1250 + i * 250), // 1250–5000 by 250
]

export class DirectoryIndex {
  private readonly store: BitsetStore
  private readonly live: number
  private readonly accepting: number
  private readonly sliding: number
  private readonly feeAtMostSets: number[]
  private readonly facets: Record<FacetName, TermIndex>
  private readonly officeState: TermIndex
  private readonly licensedState: TermIndex
  private readonly languageExact: TermIndex
  private readonly languagePrimary: TermIndex
  private readonly insurance: TermIndex
  private readonly city: TermIndex
  private readonly cityState: TermIndex
  private readonly words: TermIndex
  private readonly tags: TermIndex
  private readonly offices = new OfficeTable()

  private slotOfRow = new Int32Array(0).fill(-1)
  private rowOfSlot: Int32Array
  private seq: Float64Array
  private idWords: Uint32Array
  private names: string[] = []
  private feeKey: Int32Array
  private nextSlot = 0
  private byName = new Int32Array(0)
  private nameRank: Int32Array
  private byFee = new Int32Array(0)
  private feeRank: Int32Array
  /** sort=distance: each candidate therapist's nearest qualifying office (reset after each search). */
  private bestChord: Float64Array
  private bestPosition: Int32Array
  private readonly scratchFree: number[] = []
  /**
   * Facet terms numbered across facets (vocabulary order), with how many live therapists have each
   * term (`termCounts`) and each pair of terms (`pairCounts`, G×G). Kept on every change, they answer
   * the commonest first page outright: facet filters alone (no text, place or practicalities), each
   * facet's counts under at most one other facet's single value (`modality=cbt`: every count is a
   * table lookup, not a scan of the matching therapists).
   */
  private readonly termIds: Record<FacetName, Map<string, number>>
  private readonly termCounts: Int32Array
  private readonly pairCounts: Int32Array

  constructor(
    private readonly vocabulary: Vocabulary,
    capacity: number,
  ) {
    this.store = new BitsetStore(capacity)
    const slots = this.store.capacity
    this.rowOfSlot = new Int32Array(slots)
    this.seq = new Float64Array(slots)
    this.idWords = new Uint32Array(slots * 4)
    this.feeKey = new Int32Array(slots)
    this.nameRank = new Int32Array(slots).fill(-1)
    this.feeRank = new Int32Array(slots).fill(-1)
    this.bestChord = new Float64Array(slots).fill(Infinity)
    this.bestPosition = new Int32Array(slots)
    this.live = this.store.alloc()
    this.accepting = this.store.alloc()
    this.sliding = this.store.alloc()
    this.feeAtMostSets = FEE_THRESHOLDS.map(() => this.store.alloc())
    this.facets = {
      modality: new TermIndex(this.store, false, true),
      specialty: new TermIndex(this.store, false, true),
      format: new TermIndex(this.store, false, true),
      clientFocus: new TermIndex(this.store, false, true),
      licenseType: new TermIndex(this.store, false, true),
    }
    let terms = 0
    this.termIds = Object.fromEntries(
      FACETS.map((facet) => [facet, new Map(vocabulary.slugs(FACET_KINDS[facet]).map((slug) => [slug, terms++]))]),
    ) as Record<FacetName, Map<string, number>>
    this.termCounts = new Int32Array(terms)
    this.pairCounts = new Int32Array(terms * terms)
    this.officeState = new TermIndex(this.store, false)
    this.licensedState = new TermIndex(this.store, false)
    this.languageExact = new TermIndex(this.store, false)
    this.languagePrimary = new TermIndex(this.store, false)
    this.insurance = new TermIndex(this.store, true)
    this.city = new TermIndex(this.store, true)
    this.cityState = new TermIndex(this.store, true)
    this.words = new TermIndex(this.store, true)
    this.tags = new TermIndex(this.store, true)
  }

  /** Live therapists. */
  get size(): number {
    return this.byName.length
  }

  /** Bytes held: bitsets, per-slot arrays, term arrays, offices (names' strings estimated). */
  get bytes(): number {
    let bytes = this.store.bytes + this.offices.bytes
    bytes += this.slotOfRow.byteLength + this.rowOfSlot.byteLength + this.seq.byteLength + this.idWords.byteLength + this.feeKey.byteLength
    bytes += this.byName.byteLength + this.nameRank.byteLength + this.byFee.byteLength + this.feeRank.byteLength
    bytes += this.bestChord.byteLength + this.bestPosition.byteLength
    for (const terms of this.termIndexes()) bytes += terms.arrayBytes
    bytes += this.nextSlot * 40 // a name: string header and about 20 one-byte characters
    return bytes
  }

  // ---------- loading ----------

  /** Bulk load, step 1: slots in this order of row numbers (neighbours in the order share words of the bitsets). */
  assignSlots(rowNos: readonly number[]): void {
    for (const rowNo of rowNos) this.slotFor(rowNo)
  }

  /** Bulk load, step 2: rows in any order, each once. */
  load(rows: readonly IndexRow[]): void {
    for (const row of rows) {
      if (!row.live) continue
      this.add(this.slotFor(row.rowNo), row, false)
    }
  }

  /**
   * Bulk load, step 2 for text: the live rows that have a lexeme, in all their text (`words`) or in
   * their name and tags (`tags`), as Postgres groups them (a row's words come in many calls).
   */
  loadPostings(kind: 'words' | 'tags', lexeme: string, rowNos: ArrayLike<number>): void {
    const slots = new Int32Array(rowNos.length)
    let count = 0
    for (let i = 0; i < rowNos.length; i += 1) {
      const slot = this.slotOfRow[rowNos[i] ?? 0] ?? -1
      if (slot >= 0 && this.store.has(this.live, slot)) slots[count++] = slot
    }
    ;(kind === 'words' ? this.words : this.tags).appendSlots(lexeme, slots.subarray(0, count))
  }

  /**
   * Bulk load, step 3: the name and fee orders as Postgres sorted them (row numbers), which also
   * seals the term sets. Rows Postgres listed that the index lacks are skipped; live slots it did not
   * list (written meanwhile) are merged in.
   */
  finishLoad(nameOrder: readonly number[], feeOrder: readonly number[]): void {
    for (const terms of this.termIndexes()) terms.seal()
    this.offices.trim()
    this.countPairs()
    const toSlots = (rowNos: readonly number[]) => {
      const slots: number[] = []
      for (const rowNo of rowNos) {
        const slot = this.slotOfRow[rowNo] ?? -1
        if (slot >= 0 && this.store.has(this.live, slot)) slots.push(slot)
      }
      return slots
    }
    this.byName = Int32Array.from(new Set(toSlots(nameOrder)))
    this.byFee = Int32Array.from(new Set(toSlots(feeOrder)))
    rank(this.byName, this.nameRank)
    rank(this.byFee, this.feeRank)
    const missing: number[] = []
    for (let slot = 0; slot < this.nextSlot; slot += 1) {
      if (this.store.has(this.live, slot) && ((this.nameRank[slot] ?? -1) < 0 || (this.feeRank[slot] ?? -1) < 0)) missing.push(slot)
    }
    if (missing.length > 0) this.reorder(missing)
  }

  /**
   * A live change: rows as they are now (re-read after a write), and row numbers no longer in the
   * table. A row older than what the index holds (by change_seq) is ignored.
   * @returns how many slots changed
   */
  apply(rows: readonly IndexRow[], gone: readonly number[] = []): number {
    const changed: number[] = []
    for (const rowNo of gone) {
      const slot = this.slotOfRow[rowNo] ?? -1
      if (slot >= 0 && this.store.has(this.live, slot)) {
        this.remove(slot)
        changed.push(slot)
      }
    }
    for (const row of rows) {
      let slot = this.slotOfRow[row.rowNo] ?? -1
      // Older than what is held: skip. Equal is applied again (harmless): a build may have taken the row's
      // columns and its words from two statements that saw different sides of a write.
      if (slot >= 0 && (this.seq[slot] ?? 0) > row.seq) continue
      if (!row.live) {
        if (slot < 0) continue
        if (this.store.has(this.live, slot)) this.remove(slot)
        this.seq[slot] = row.seq
        changed.push(slot)
        continue
      }
      if (slot < 0) slot = this.slotFor(row.rowNo)
      else if (this.store.has(this.live, slot)) this.remove(slot)
      this.add(slot, row, true)
      changed.push(slot)
    }
    if (changed.length > 0) this.reorder(changed)
    return changed.length
  }

  /** termCounts and pairCounts from the term sets (after a bulk load): one AND-count per pair of terms. */
  private countPairs(): void {
    const sets: { id: number; handle: number; release: boolean }[] = []
    for (const facet of FACETS) {
      for (const [slug, id] of this.termIds[facet]) {
        const set = this.facets[facet].get(slug)
        if (set === undefined) continue
        if (set.dense >= 0) sets.push({ id, handle: set.dense, release: false })
        else {
          const handle = this.store.alloc()
          set.copyInto(handle)
          sets.push({ id, handle, release: true })
        }
      }
    }
    const terms = this.termCounts.length
    for (const a of sets) {
      this.termCounts[a.id] = this.store.count(a.handle)
      for (const b of sets) {
        if (b.id > a.id) {
          const both = this.store.andCount(a.handle, b.handle)
          this.pairCounts[a.id * terms + b.id] = both
          this.pairCounts[b.id * terms + a.id] = both
        }
      }
    }
    for (const set of sets) if (set.release) this.store.release(set.handle)
  }

  /** Adds (+1) or removes (-1) a live slot's facet terms to the term and pair counts. */
  private countTerms(ids: readonly number[], delta: 1 | -1): void {
    const terms = this.termCounts.length
    for (const a of ids) {
      this.termCounts[a] = (this.termCounts[a] ?? 0) + delta
      for (const b of ids) if (b !== a) this.pairCounts[a * terms + b] = (this.pairCounts[a * terms + b] ?? 0) + delta
    }
  }

  /** The facet terms a row has, as term ids. */
  private rowTermIds(row: IndexRow): number[] {
    const ids = new Set<number>()
    const add = (facet: FacetName, slugs: readonly string[]) => {
      for (const slug of slugs) {
        const id = this.termIds[facet].get(slug)
        if (id !== undefined) ids.add(id)
      }
    }
    add('modality', row.modalities)
    add('specialty', row.specialties)
    add('clientFocus', row.clientFocus)
    add('format', row.formats)
    add('licenseType', [row.licenseType])
    return [...ids]
  }

  /** The facet terms a live slot has now (from the term sets), as term ids. */
  private slotTermIds(slot: number): number[] {
    const ids: number[] = []
    for (const facet of FACETS) {
      for (const [slug, id] of this.termIds[facet]) if (this.facets[facet].get(slug)?.has(slot)) ids.push(id)
    }
    return ids
  }

  /** The id of the therapist a row number belongs to, if the index has it. */
  idOfRow(rowNo: number): string | null {
    const slot = this.slotOfRow[rowNo] ?? -1
    return slot < 0 ? null : this.uuidOf(slot)
  }

  // ---------- searching ----------

  /** Answers a search whose text query (if any) the index supports (see text-query.ts). */
  answer(search: ResolvedSearch, text: ParsedTextQuery | undefined): IndexAnswer {
    const taken: number[] = []
    const take = () => {
      const handle = this.scratchFree.pop() ?? this.store.alloc()
      taken.push(handle)
      return handle
    }
    try {
      return this.answerWith(search, text, take)
    } finally {
      this.scratchFree.push(...taken)
    }
  }

  private answerWith(search: ResolvedSearch, text: ParsedTextQuery | undefined, take: () => number): IndexAnswer {
    const store = this.store
    const words = store.words
    // Every filter as a set of slots (kept sets where one will do; unions made in scratch bitsets), and
    // whether a slot must be in it or out of it. A page walks its order testing these, and only counting
    // facets needs them ANDed over all slots.
    const filters: Filter[] = [{ set: this.live, out: false }]
    if (text !== undefined && search.q !== undefined) filters.push({ set: this.evaluate(text.tree, this.words, take), out: false })
    if (search.languages.length > 0) {
      const speaks = take()
      store.zero(speaks)
      for (const tag of search.languages) (tag.includes('-') ? this.languageExact : this.languagePrimary).get(tag)?.orInto(speaks)
      filters.push({ set: speaks, out: false })
    }
    if (search.insurance.length > 0) {
      const takes = take()
      store.zero(takes)
      for (const name of search.insurance) this.insurance.get(name)?.orInto(takes)
      filters.push({ set: takes, out: false })
    }
    if (search.maxFee !== undefined) filters.push({ set: this.feeAtMost(search.maxFee, take()), out: false })
    if (search.slidingScale !== undefined) filters.push({ set: this.sliding, out: !search.slidingScale })
    if (search.acceptingNewClients !== undefined) filters.push({ set: this.accepting, out: !search.acceptingNewClients })

    // The facet filters, each as one set.
    const active = FACETS.filter((facet) => facetValues(search, facet).length > 0)
    const facetSet = new Map<FacetName, number>()
    for (const facet of active) facetSet.set(facet, this.facetFilter(search, facet, take))

    // The place: an office that fits (state, city, radius), or telehealth in the searcher's state.
    // sort=distance finds nearby offices its own way: the set of them is needed only for the facets
    // and to keep them out of the telehealth bucket.
    const telehealth = this.telehealthMatch(search, take)
    const needsOffices = search.sort !== 'distance' || search.facets.length > 0 || telehealth !== null
    const office = needsOffices ? this.officeMatch(search, take) : null
    let place: number | null = null
    if (office !== null && telehealth !== null) {
      place = take()
      store.or(place, office, telehealth)
    } else if (office !== null) place = office

    const facetFilters = [...facetSet.values()].map((set): Filter => ({ set, out: false }))
    let facets: FacetRow[] | null = null
    if (search.facets.length > 0) {
      // Every filter but the facets', over all slots, then each facet counted without its own filter.
      const base = take()
      this.intersect(base, place === null ? filters : [...filters, { set: place, out: false }], 0, words)
      const [lo, hi] = store.span(base, 0, words)
      const onlyFacetFilters =
        search.q === undefined && search.languages.length === 0 && search.insurance.length === 0 && search.maxFee === undefined &&
        search.slidingScale === undefined && search.acceptingNewClients === undefined && place === null
      facets = this.countFacets(search, base, active, facetSet, lo, hi, take, onlyFacetFilters)
    }

    // sort=distance filters by place its own way, so its page starts from everything else.
    if (search.sort === 'distance') return { hits: this.distancePage(search, [...filters, ...facetFilters], office, telehealth, take), facets }
    const all = place === null ? [...filters, ...facetFilters] : [...filters, ...facetFilters, { set: place, out: false }]
    const hits =
      search.sort === 'relevance' && text !== undefined ? this.relevancePage(search, text, all, take) : this.orderedPage(search, all, take)
    return { hits, facets }
  }

  /** dst = the slots every filter lets through, over words [from, to). */
  private intersect(dst: number, filters: readonly Filter[], from: number, to: number): void {
    const [first, ...rest] = filters
    if (first === undefined) return this.store.copy(dst, this.live, from, to)
    if (first.out) this.store.andNot(dst, this.live, first.set, from, to)
    else this.store.copy(dst, first.set, from, to)
    for (const filter of rest) {
      if (filter.out) this.store.andNot(dst, dst, filter.set, from, to)
      else this.store.and(dst, dst, filter.set, from, to)
    }
  }

  /** Disjunctive counts: each facet over the slots that pass every filter but its own. */
  private countFacets(
    search: ResolvedSearch,
    base: number,
    active: FacetName[],
    facetSet: Map<FacetName, number>,
    lo: number,
    hi: number,
    take: () => number,
    onlyFacetFilters: boolean,
  ): FacetRow[] {
    const rows: FacetRow[] = []
    const mask = take()
    const width = this.termCounts.length
    for (const facet of search.facets) {
      const others = active.filter((other) => other !== facet)
      const single = others.length === 1 ? facetValues(search, others[0] as FacetName) : []
      const by = others.length === 1 && single.length === 1 ? this.termIds[others[0] as FacetName].get(single[0] ?? '') : undefined
      if (onlyFacetFilters && (others.length === 0 || by !== undefined)) {
        for (const [slug, id] of this.termIds[facet]) {
          rows.push({ facet, value: slug, count: by === undefined ? (this.termCounts[id] ?? 0) : (this.pairCounts[id * width + by] ?? 0) })
        }
        continue
      }
      this.store.copy(mask, base, lo, hi)
      for (const other of active) if (other !== facet) this.store.and(mask, mask, facetSet.get(other) ?? mask, lo, hi)
      const terms = this.vocabulary.slugs(FACET_KINDS[facet])
      const sets = terms.map((slug) => this.facets[facet].get(slug))
      const dense = sets.flatMap((set) => (set !== undefined && set.dense >= 0 ? [set.dense] : []))
      const denseCounts = this.store.countMany(mask, dense, lo, hi)
      let next = 0
      terms.forEach((slug, i) => {
        const set = sets[i]
        const count = set === undefined ? 0 : set.dense >= 0 ? (denseCounts[next++] ?? 0) : set.countWith(mask, lo, hi)
        rows.push({ facet, value: slug, count })
      })
    }
    return rows
  }

  /**
   * A facet filter as one set: a term's own bitset when one value is asked for (read, never written), else
   * the union (any) or intersection (modalityMatch=all) in a scratch bitset. Facet terms are always bitsets.
   */
  private facetFilter(search: ResolvedSearch, facet: FacetName, take: () => number): number {
    const sets = facetValues(search, facet).map((value) => this.facets[facet].get(value)?.dense ?? -1)
    const all = facet === 'modality' && search.modalityMatch === 'all'
    const [first] = sets
    if (sets.length === 1 && first !== undefined && first >= 0) return first
    const set = take()
    if (all) {
      if (sets.some((handle) => handle < 0)) this.store.zero(set)
      else {
        this.store.copy(set, first ?? this.live)
        for (const handle of sets.slice(1)) this.store.and(set, set, handle)
      }
      return set
    }
    this.store.zero(set)
    for (const handle of sets) if (handle >= 0) this.store.or(set, set, handle)
    return set
  }

  /** The slots with an office that fits the place filters (null when there are none). */
  private officeMatch(search: ResolvedSearch, take: () => number): number | null {
    const { location, state, city } = search
    if (location === undefined && city === undefined) {
      if (state === undefined) return null
      const set = take()
      const inState = this.officeState.get(state)
      if (inState) inState.copyInto(set)
      else this.store.zero(set)
      return set
    }
    const set = take()
    if (location === undefined) {
      const lowered = (city ?? '').toLowerCase()
      const offices = state === undefined ? this.city.get(lowered) : this.cityState.get(`${state}\u0000${lowered}`)
      if (offices) offices.copyInto(set)
      else this.store.zero(set)
      return set
    }
    this.store.zero(set)
    const where = this.officeFilter(search)
    if (where !== null) {
      const { words, base } = this.store.view(set)
      this.offices.markWithin(where.latitude, where.longitude, where.radiusM, where.state, where.city, words, base)
    }
    return set
  }

  /** The office conditions of a search with a location, as the office table takes them; null when no office can match. */
  private officeFilter(search: ResolvedSearch): { latitude: number; longitude: number; radiusM: number; state: number; city: number } | null {
    const { location, state, city } = search
    if (location === undefined) return null
    const stateId = state === undefined ? -1 : this.offices.stateId(state)
    const cityId = city === undefined ? -1 : this.offices.cityId(city.toLowerCase())
    if ((state !== undefined && stateId < 0) || (city !== undefined && cityId < 0)) return null
    return { latitude: location.latitude, longitude: location.longitude, radiusM: location.radiusKm * 1000, state: stateId, city: cityId }
  }

  /** Offers telehealth and is licensed in the searcher's state (null when not asked for). */
  private telehealthMatch(search: ResolvedSearch, take: () => number): number | null {
    const state = search.includeTelehealth ? (search.location?.state ?? search.state ?? undefined) : undefined
    if (state === undefined) return null
    const set = take()
    const online = this.facets.format.get('telehealth')
    const licensed = this.licensedState.get(state)
    if (online === undefined || licensed === undefined) {
      this.store.zero(set)
      return set
    }
    online.copyInto(set)
    const other = take()
    licensed.copyInto(other)
    this.store.and(set, set, other)
    return set
  }

  /** Slots whose lowest fee is at most `maxFee`. */
  private feeAtMost(maxFee: number, set: number): number {
    let at = FEE_THRESHOLDS.length - 1
    while (at > 0 && (FEE_THRESHOLDS[at] ?? 0) > maxFee) at -= 1
    const threshold = FEE_THRESHOLDS[at] ?? 0
    this.store.copy(set, this.feeAtMostSets[at] ?? set)
    // The few between the threshold and maxFee, from the fee order.
    for (let rank = lowerBound(this.byFee.length, (i) => (this.feeKey[this.byFee[i] ?? 0] ?? 0) <= threshold); rank < this.byFee.length; rank += 1) {
      const slot = this.byFee[rank] ?? 0
      if ((this.feeKey[slot] ?? 0) > maxFee) break
      this.store.set(set, slot)
    }
    return set
  }

  /**
   * The slots the text query matches in one of the lexeme indexes (all words, or name and tags): a
   * lexeme's own bitset when the query is one lexeme (read, never written), else a scratch bitset.
   * Alternatives of words (`'grief' | 'grief':*`) are one union, each lexeme once.
   */
  private evaluate(node: TextQuery, lexemes: TermIndex, take: () => number): number {
    const store = this.store
    switch (node.op) {
      case 'word':
      case 'or': {
        const words = alternatives(node)
        if (words !== null) {
          const sets = [...new Set(words.flatMap((word) => (word.prefix ? lexemes.withPrefix(word.lexeme) : [lexemes.get(word.lexeme)].filter((set) => set !== undefined))))]
          const only = sets.length === 1 ? sets[0] : undefined
          if (only !== undefined && only.dense >= 0) return only.dense
          const dst = take()
          store.zero(dst)
          for (const set of sets) set.orInto(dst)
          return dst
        }
        // An alternative with more than words in it (`a | (b & c)`): its sides, then their union.
        const [left, right] = node.op === 'or' ? node.args : [node, node]
        const dst = take()
        store.or(dst, this.evaluate(left, lexemes, take), this.evaluate(right, lexemes, take))
        return dst
      }
      case 'not': {
        const dst = take()
        store.andNot(dst, this.live, this.evaluate(node.arg, lexemes, take))
        return dst
      }
      case 'and': {
        const dst = take()
        store.and(dst, this.evaluate(node.args[0], lexemes, take), this.evaluate(node.args[1], lexemes, take))
        return dst
      }
      case 'empty': {
        const dst = take()
        store.zero(dst)
        return dst
      }
      case 'phrase':
      case 'weighted':
        throw new Error('the index does not evaluate phrases or weights; search-service sends such queries to SQL')
    }
  }

  // ---------- pages ----------

  /** sort=name or fee: the first hits passing `filters` after the cursor, in that order. */
  private orderedPage(search: ResolvedSearch, filters: readonly Filter[], take: () => number): IndexHit[] {
    const cursor = search.cursor
    if (search.sort === 'fee') {
      const start = cursor?.s === 'fee' ? this.feeStart(cursor.f, cursor.id) : 0
      return this.firstOf(this.byFee, this.feeRank, filters, start, search.limit + 1, take).map((slot) => this.hit(search, slot, { key: this.feeKey[slot] ?? NO_FEE }))
    }
    const start = cursor?.s === 'name' ? this.nameStart(cursor.n, cursor.id) : 0
    return this.firstOf(this.byName, this.nameRank, filters, start, search.limit + 1, take).map((slot) => this.hit(search, slot, { key: this.names[slot] ?? '' }))
  }

  /** sort=relevance: matches in the name or own modalities and specialties (tier 1), then bio-only ones (tier 2), each by name. */
  private relevancePage(search: ResolvedSearch, text: ParsedTextQuery, filters: readonly Filter[], take: () => number): IndexHit[] {
    const tagged = this.evaluate(text.tree, this.tags, take)
    const cursor = search.cursor?.s === 'relevance' ? search.cursor : undefined
    const need = search.limit + 1
    const hits: IndexHit[] = []
    if (cursor === undefined || cursor.b === 1) {
      const start = cursor ? this.nameStart(cursor.n, cursor.id) : 0
      for (const slot of this.firstOf(this.byName, this.nameRank, [...filters, { set: tagged, out: false }], start, need, take)) {
        hits.push(this.hit(search, slot, { bucket: 1, name: this.names[slot] ?? '' }))
      }
    }
    if (hits.length < need) {
      const start = cursor?.b === 2 ? this.nameStart(cursor.n, cursor.id) : 0
      for (const slot of this.firstOf(this.byName, this.nameRank, [...filters, { set: tagged, out: true }], start, need - hits.length, take)) {
        hits.push(this.hit(search, slot, { bucket: 2, name: this.names[slot] ?? '' }))
      }
    }
    return hits
  }

  /**
   * sort=distance: therapists with an office in the radius (and state and city), each at its nearest
   * such office, nearest first (ties by id); then, with includeTelehealth, telehealth therapists
   * licensed in the searcher's state with no such office, by name.
   */
  private distancePage(search: ResolvedSearch, filters: readonly Filter[], office: number | null, telehealth: number | null, take: () => number): IndexHit[] {
    const passes = this.tester(filters)
    const cursor = search.cursor?.s === 'distance' ? search.cursor : undefined
    const need = search.limit + 1
    const hits: IndexHit[] = []
    if (cursor === undefined || cursor.b === 0) {
      const touched: number[] = []
      const where = this.officeFilter(search)
      const after = cursor === undefined ? null : { chord: this.cursorChord(cursor, where), id: parseUuid(cursor.id) }
      // The nearest `need` therapists after the cursor among the offices seen so far, by their nearest office.
      const top = new NearestFirst(need, (a, b) => {
        const x = this.bestChord[a] ?? 0
        const y = this.bestChord[b] ?? 0
        return x < y ? -1 : x > y ? 1 : compareSlots(this.idWords, a, b)
      })
      if (where !== null) {
        this.offices.nearestFirst(
          where.latitude,
          where.longitude,
          where.radiusM,
          where.state,
          where.city,
          (slot, chord, position) => {
            if (!passes(slot)) return
            const best = this.bestChord[slot] ?? Infinity
            if (best === Infinity) touched.push(slot)
            else if (chord > best || (chord === best && position >= (this.bestPosition[slot] ?? 0))) return
            this.bestChord[slot] = chord
            this.bestPosition[slot] = position
            // Nearer than before: on the page if after the cursor, off it (for good) if not.
            if (after === null || this.compareDistance(slot, after.chord, after.id) > 0) top.offer(slot)
            else top.drop(slot)
          },
          // Every office not yet seen is at least `bound` away: a full page nearer than that is final.
          (bound) => top.full && (this.bestChord[top.last] ?? Infinity) < bound,
        )
      }
      for (const slot of top.inOrder()) {
        hits.push(this.hit(search, slot, { bucket: 0, chord: this.bestChord[slot] ?? 0, rowNo: this.rowOfSlot[slot] ?? null }, this.bestPosition[slot] ?? null))
      }
      for (const slot of touched) this.bestChord[slot] = Infinity
    }
    if (hits.length < need && telehealth !== null) {
      const remote: Filter[] = [...filters, { set: telehealth, out: false }]
      if (office !== null) remote.push({ set: office, out: true })
      const start = cursor?.b === 1 ? this.nameStart(cursor.n, cursor.id) : 0
      for (const slot of this.firstOf(this.byName, this.nameRank, remote, start, need - hits.length, take)) {
        hits.push(this.hit(search, slot, { bucket: 1, name: this.names[slot] ?? '' }))
      }
    }
    return hits
  }

  /**
   * The first `need` slots that pass `filters`, from position `start` of `order`. First by walking the
   * order and testing each slot (a common match fills a page in a few dozen steps, and nothing is computed
   * over all slots); past WALK_STEPS without a page, by ANDing the filters and sorting the matches' ranks
   * (a rare match, found without walking the whole order).
   */
  private firstOf(order: Int32Array, ranks: Int32Array, filters: readonly Filter[], start: number, need: number, take: () => number): number[] {
    if (need <= 0) return []
    const found: number[] = []
    const passes = this.tester(filters)
    const end = Math.min(order.length, start + WALK_STEPS)
    let rank = start
    for (; rank < end && found.length < need; rank += 1) {
      const slot = order[rank] ?? 0
      if (passes(slot)) found.push(slot)
    }
    if (found.length === need || rank >= order.length) return found
    // Rare: the matches' own ranks, the smallest from `start` on.
    const set = take()
    this.intersect(set, filters, 0, this.store.words)
    const [lo, hi] = this.store.span(set)
    const candidates: number[] = []
    this.store.forEach(set, (slot) => {
      const at = ranks[slot] ?? -1
      if (at >= start) candidates.push(at)
    }, lo, hi)
    return smallest(candidates, need, (a, b) => a - b).map((at) => order[at] ?? 0)
  }

  /** Whether a slot passes every filter, tested bit by bit (valid until the store next allocates). */
  private tester(filters: readonly Filter[]): (slot: number) => boolean {
    const { words } = this.store.view(this.live)
    const tests = filters.map((filter) => ({ base: this.store.view(filter.set).base, out: filter.out }))
    return (slot) => {
      const word = slot >>> 5
      const bit = 1 << (slot & 31)
      for (const test of tests) if ((((words[test.base + word] ?? 0) & bit) !== 0) === test.out) return false
      return true
    }
  }

  private hit(search: ResolvedSearch, slot: number, cursor: Omit<CursorFields, 'id'>, officePosition: number | null = null): IndexHit {
    const id = this.uuidOf(slot)
    const has = (facet: FacetName, slugs: string[]) => slugs.filter((slug) => this.facets[facet].get(slug)?.has(slot) === true)
    return { id, matched: { modalities: has('modality', search.modality), specialties: has('specialty', search.specialty) }, officePosition, cursor: { id, ...cursor } }
  }

  /** The first position of the name order after (name, id). */
  private nameStart(name: string, id: string): number {
    const words = parseUuid(id)
    return lowerBound(this.byName.length, (i) => {
      const slot = this.byName[i] ?? 0
      return (compareCodePoints(this.names[slot] ?? '', name) || compareWords(this.idWords, slot, words)) <= 0
    })
  }

  /** The first position of the fee order after (fee key, id). */
  private feeStart(fee: number, id: string): number {
    const words = parseUuid(id)
    return lowerBound(this.byFee.length, (i) => {
      const slot = this.byFee[i] ?? 0
      return ((this.feeKey[slot] ?? 0) - fee || compareWords(this.idWords, slot, words)) <= 0
    })
  }

  /**
   * Where a sort=distance cursor's therapist stands: its nearest qualifying office's chord as Node computes
   * it (a cursor made by SQL carries Postgres's, which may differ in the last bit), or the cursor's own
   * chord when the therapist is unknown here or no longer qualifies.
   */
  private cursorChord(cursor: { c: number; r?: number | undefined }, where: ReturnType<DirectoryIndex['officeFilter']>): number {
    const slot = cursor.r === undefined ? -1 : (this.slotOfRow[cursor.r] ?? -1)
    if (slot < 0 || where === null || !this.store.has(this.live, slot)) return cursor.c
    return this.offices.nearestOf(slot, where.latitude, where.longitude, where.radiusM, where.state, where.city) ?? cursor.c
  }

  /** The slot's (nearest chord, id) against another's. */
  private compareDistance(slot: number, chord: number, id: Uint32Array): number {
    const mine = this.bestChord[slot] ?? 0
    return mine < chord ? -1 : mine > chord ? 1 : compareWords(this.idWords, slot, id)
  }

  // ---------- slots ----------

  private slotFor(rowNo: number): number {
    const existing = this.slotOfRow[rowNo] ?? -1
    if (existing >= 0) return existing
    if (rowNo >= this.slotOfRow.length) {
      const grown = new Int32Array(Math.max(rowNo + 1, Math.ceil(this.slotOfRow.length * 1.5), 1024)).fill(-1)
      grown.set(this.slotOfRow)
      this.slotOfRow = grown
    }
    if (this.nextSlot >= this.store.capacity) this.grow(Math.ceil(this.store.capacity * 1.5))
    const slot = this.nextSlot++
    this.slotOfRow[rowNo] = slot
    this.rowOfSlot[slot] = rowNo
    return slot
  }

  private grow(capacity: number): void {
    this.store.grow(capacity)
    const slots = this.store.capacity
    const grown = <T extends Int32Array | Float64Array | Uint32Array>(array: T, make: (n: number) => T, fill?: number): T => {
      const next = make(array === this.idWords ? slots * 4 : slots)
      if (fill !== undefined) next.fill(fill)
      next.set(array)
      return next
    }
    this.rowOfSlot = grown(this.rowOfSlot, (n) => new Int32Array(n))
    this.seq = grown(this.seq, (n) => new Float64Array(n))
    this.idWords = grown(this.idWords, (n) => new Uint32Array(n))
    this.feeKey = grown(this.feeKey, (n) => new Int32Array(n))
    this.nameRank = grown(this.nameRank, (n) => new Int32Array(n), -1)
    this.feeRank = grown(this.feeRank, (n) => new Int32Array(n), -1)
    this.bestChord = grown(this.bestChord, (n) => new Float64Array(n), Infinity)
    this.bestPosition = grown(this.bestPosition, (n) => new Int32Array(n))
  }

  private add(slot: number, row: IndexRow, incremental: boolean): void {
    const store = this.store
    this.idWords.set(parseUuid(row.id), slot * 4)
    this.names[slot] = row.name
    const fee = row.feeMin ?? NO_FEE
    this.feeKey[slot] = fee
    this.seq[slot] = row.seq
    store.set(this.live, slot)
    if (row.accepting) store.set(this.accepting, slot)
    if (row.sliding) store.set(this.sliding, slot)
    FEE_THRESHOLDS.forEach((threshold, i) => {
      if (fee <= threshold) store.set(this.feeAtMostSets[i] ?? 0, slot)
    })
    const put = (terms: TermIndex, keys: readonly string[]) => (incremental ? terms.replace(slot, keys) : terms.append(slot, keys))
    put(this.facets.modality, row.modalities)
    put(this.facets.specialty, row.specialties)
    put(this.facets.clientFocus, row.clientFocus)
    put(this.facets.format, row.formats)
    put(this.facets.licenseType, [row.licenseType])
    // A bulk load counts pairs once at the end (countPairs); a live change counts its own.
    if (incremental) this.countTerms(this.rowTermIds(row), 1)
    put(this.officeState, row.officeStates)
    put(this.licensedState, row.licensedStates)
    put(this.languageExact, row.languages)
    put(this.languagePrimary, [...new Set(row.languages.map((tag) => tag.split('-')[0] ?? tag))])
    put(this.insurance, row.insurance)
    put(this.city, [...new Set(row.offices.map((office) => office.city))])
    put(this.cityState, [...new Set(row.offices.map((office) => `${office.state}\u0000${office.city}`))])
    put(this.words, row.words)
    put(this.tags, row.tags)
    this.offices.replace(slot, row.offices)
  }

  private remove(slot: number): void {
    const store = this.store
    if (store.has(this.live, slot)) this.countTerms(this.slotTermIds(slot), -1)
    store.clear(this.live, slot)
    store.clear(this.accepting, slot)
    store.clear(this.sliding, slot)
    for (const set of this.feeAtMostSets) store.clear(set, slot)
    for (const terms of this.termIndexes()) terms.remove(slot)
    this.offices.remove(slot)
  }

  /** Merges changed slots into the name and fee orders (a sort of the changed ones and one pass over the rest). */
  private reorder(changed: readonly number[]): void {
    const byName = (a: number, b: number) => compareCodePoints(this.names[a] ?? '', this.names[b] ?? '') || compareSlots(this.idWords, a, b)
    const byFee = (a: number, b: number) => (this.feeKey[a] ?? 0) - (this.feeKey[b] ?? 0) || compareSlots(this.idWords, a, b)
    this.byName = merge(this.byName, this.nameRank, changed, (slot) => this.store.has(this.live, slot), byName)
    this.byFee = merge(this.byFee, this.feeRank, changed, (slot) => this.store.has(this.live, slot), byFee)
  }

  private termIndexes(): TermIndex[] {
    return [
      ...Object.values(this.facets),
      this.officeState,
      this.licensedState,
      this.languageExact,
      this.languagePrimary,
      this.insurance,
      this.city,
      this.cityState,
      this.words,
      this.tags,
    ]
  }

  private uuidOf(slot: number): string {
    const w = this.idWords
    const at = slot * 4
    const a = w[at] ?? 0
    const b = w[at + 1] ?? 0
    const c = w[at + 2] ?? 0
    const d = w[at + 3] ?? 0
    return `${hex16(a >>> 16)}${hex16(a & 0xffff)}-${hex16(b >>> 16)}-${hex16(b & 0xffff)}-${hex16(c >>> 16)}-${hex16(c & 0xffff)}${hex16(d >>> 16)}${hex16(d & 0xffff)}`
  }

}

function facetValues(search: ResolvedSearch, facet: FacetName): string[] {
  switch (facet) {
    case 'modality':
      return search.modality
    case 'specialty':
      return search.specialty
    case 'format':
      return search.format
    case 'clientFocus':
      return search.clientFocus
    case 'licenseType':
      return search.licenseType
  }
}

/** Four hex digits of every 16-bit value (a uuid is formatted from eight of them, for each hit). */
const HEX16 = Array.from({ length: 65536 }, (_, i) => i.toString(16).padStart(4, '0'))
const hex16 = (value: number): string => HEX16[value] ?? '0000'

/** A uuid as four big-endian 32-bit words: compared word by word they sort as Postgres sorts uuids. */
export function parseUuid(id: string): Uint32Array {
  const hex = id.replaceAll('-', '')
  const words = new Uint32Array(4)
  for (let i = 0; i < 4; i += 1) words[i] = Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16)
  return words
}

function compareWords(ids: Uint32Array, slot: number, words: Uint32Array): number {
  for (let i = 0; i < 4; i += 1) {
    const a = ids[slot * 4 + i] ?? 0
    const b = words[i] ?? 0
    if (a !== b) return a < b ? -1 : 1
  }
  return 0
}

function compareSlots(ids: Uint32Array, a: number, b: number): number {
  for (let i = 0; i < 4; i += 1) {
    const x = ids[a * 4 + i] ?? 0
    const y = ids[b * 4 + i] ?? 0
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

/**
 * Compares by Unicode code point, as Postgres compares text under the "C" collation (UTF-8 bytes):
 * JavaScript's `<` compares UTF-16 units, which puts characters beyond U+FFFF before U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i += 1) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    if (x >= 0xd800 && y >= 0xd800) {
      const fix = (unit: number) => (unit >= 0xe000 ? unit - 0x800 : unit + 0x2000)
      return fix(x) - fix(y)
    }
    return x - y
  }
  return a.length - b.length
}

/** The first i in [0, length) for which `before(i)` is false (`before` is true, then false). */
function lowerBound(length: number, before: (i: number) => boolean): number {
  let lo = 0
  let hi = length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (before(mid)) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** rank[order[i]] = i. */
function rank(order: Int32Array, ranks: Int32Array): void {
  ranks.fill(-1)
  for (let i = 0; i < order.length; i += 1) ranks[order[i] ?? 0] = i
}

/** The order without the changed slots, merged with those of them still live, sorted; ranks updated. */
function merge(
  order: Int32Array<ArrayBuffer>,
  ranks: Int32Array,
  changed: readonly number[],
  live: (slot: number) => boolean,
  compare: (a: number, b: number) => number,
): Int32Array<ArrayBuffer> {
  const isChanged = new Set(changed)
  const added = [...isChanged].filter(live).sort(compare)
  const next = new Int32Array(order.length - [...isChanged].filter((slot) => (ranks[slot] ?? -1) >= 0).length + added.length)
  let i = 0
  let j = 0
  let k = 0
  while (i < order.length || j < added.length) {
    const kept = order[i]
    if (kept !== undefined && isChanged.has(kept)) {
      i += 1
      continue
    }
    const fresh = added[j]
    if (kept === undefined || (fresh !== undefined && compare(fresh, kept) < 0)) {
      next[k++] = fresh ?? 0
      j += 1
    } else {
      next[k++] = kept
      i += 1
    }
  }
  for (const slot of isChanged) ranks[slot] = -1
  rank(next.subarray(0, k), ranks)
  return k === next.length ? next : next.slice(0, k)
}

/** The `count` smallest items by `compare`, in order (a bounded heap: O(n log count)). */
function smallest<T>(items: readonly T[], count: number, compare: (a: T, b: T) => number): T[] {
  if (items.length <= count) return [...items].sort(compare)
  // A max-heap of the best `count` so far: its top is the first to drop.
  const heap: T[] = []
  const above = (i: number, j: number) => compare(heap[i] as T, heap[j] as T) > 0
  for (const item of items) {
    if (heap.length < count) {
      heap.push(item)
      for (let i = heap.length - 1; i > 0 && above(i, (i - 1) >> 1); i = (i - 1) >> 1) [heap[i], heap[(i - 1) >> 1]] = [heap[(i - 1) >> 1] as T, heap[i] as T]
    } else if (compare(item, heap[0] as T) < 0) {
      heap[0] = item
      for (let i = 0; ; ) {
        const l = 2 * i + 1
        const r = l + 1
        let top = i
        if (l < heap.length && above(l, top)) top = l
        if (r < heap.length && above(r, top)) top = r
        if (top === i) break
        ;[heap[i], heap[top]] = [heap[top] as T, heap[i] as T]
        i = top
      }
    }
  }
  return heap.sort(compare)
}

/**
 * The `size` first slots by `compare`, as slots are offered and re-offered with better keys (a slot's
 * key only gets better): a max-heap with each slot's place in it, so a re-offered slot moves rather
 * than enters twice.
 */
class NearestFirst {
  private readonly heap: number[] = []
  private readonly at = new Map<number, number>()

  constructor(
    private readonly size: number,
    private readonly compare: (a: number, b: number) => number,
  ) {}

  get full(): boolean {
    return this.heap.length >= this.size
  }

  /** The last slot of the page (the heap's top). */
  get last(): number {
    return this.heap[0] ?? -1
  }

  offer(slot: number): void {
    const place = this.at.get(slot)
    if (place !== undefined) {
      // A better key: it can only move away from the top.
      this.down(place)
      return
    }
    if (this.heap.length < this.size) {
      this.heap.push(slot)
      this.at.set(slot, this.heap.length - 1)
      this.up(this.heap.length - 1)
    } else if (this.compare(slot, this.heap[0] ?? slot) < 0) {
      this.at.delete(this.heap[0] ?? -1)
      this.heap[0] = slot
      this.at.set(slot, 0)
      this.down(0)
    }
  }

  drop(slot: number): void {
    const place = this.at.get(slot)
    if (place === undefined) return
    this.at.delete(slot)
    const moved = this.heap.pop() as number
    if (place === this.heap.length) return
    this.heap[place] = moved
    this.at.set(moved, place)
    this.down(place)
    this.up(place)
  }

  inOrder(): number[] {
    return [...this.heap].sort(this.compare)
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i] as number
    const b = this.heap[j] as number
    this.heap[i] = b
    this.heap[j] = a
    this.at.set(b, i)
    this.at.set(a, j)
  }

  private up(i: number): void {
    for (let parent = (i - 1) >> 1; i > 0 && this.compare(this.heap[i] as number, this.heap[parent] as number) > 0; i = parent, parent = (i - 1) >> 1) this.swap(i, parent)
  }

  private down(i: number): void {
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let top = i
      if (left < this.heap.length && this.compare(this.heap[left] as number, this.heap[top] as number) > 0) top = left
      if (right < this.heap.length && this.compare(this.heap[right] as number, this.heap[top] as number) > 0) top = right
      if (top === i) return
      this.swap(i, top)
      i = top
    }
  }
}
