/**
 * Every office of the directory index, for radius searches: its therapist's slot, its point on
 * earthdistance's sphere, its state and city, and a quadtree (1° cells, each split in four wherever it
 * holds more than LEAF_OFFICES) so a search looks only at offices near its point, however dense the city:
 * at a million therapists a single 0.05° cell of Manhattan held 17,000 offices.
 *
 * Distances are computed as the `earthdistance` extension computes them, so the index and Postgres
 * agree on who is within a radius: `ll_to_earth` places a point on a sphere of radius 6,378,168 m,
 * `<->` is the straight-line (chord) distance between two points, and `earth_distance` turns a chord
 * into the great-circle distance. (Node's and the C library's sine and cosine may differ in the last
 * bit; that moves a distance by less than a micrometre.)
 */

export const EARTH_RADIUS_M = 6378168
/** Postgres's RADIANS_PER_DEGREE (0.0174532925199432957692) is this very double. */
const RADIANS = Math.PI / 180
/** Top cells of the quadtree, in degrees. */
const TOP_DEGREES = 1
const LON_CELLS = Math.round(360 / TOP_DEGREES)
/** A cell splits in four past this many offices, down to MAX_DEPTH (1°/4096: about 27 m). */
const LEAF_OFFICES = 128
const MAX_DEPTH = 12

export interface Point {
  x: number
  y: number
  z: number
}

/** ll_to_earth(latitude, longitude). */
export function toEarth(latitude: number, longitude: number): Point {
  return {
    x: EARTH_RADIUS_M * Math.cos(latitude * RADIANS) * Math.cos(longitude * RADIANS),
    y: EARTH_RADIUS_M * Math.cos(latitude * RADIANS) * Math.sin(longitude * RADIANS),
    z: EARTH_RADIUS_M * Math.sin(latitude * RADIANS),
  }
}

/** earth_distance from a chord (earthdistance's sec_to_gc). */
export function greatCircle(chord: number): number {
  if (chord < 0) return 0
  if (chord / (2 * EARTH_RADIUS_M) > 1) return Math.PI * EARTH_RADIUS_M
  return 2 * EARTH_RADIUS_M * Math.asin(chord / (2 * EARTH_RADIUS_M))
}

export interface OfficeInput {
  position: number
  state: string
  /** lower(city), as Postgres lowers it. */
  city: string
  latitude: number
  longitude: number
}

const chordBetween = (a: Point, b: Point) => Math.sqrt((a.x - b.x) ** 2 + (a.y - b.y) ** 2 + (a.z - b.z) ** 2)

/** The chord of a great-circle distance (earthdistance's gc_to_sec): a radius as a bound on chords. */
export function chordOf(distanceM: number): number {
  return 2 * EARTH_RADIUS_M * Math.sin(Math.min(distanceM, Math.PI * EARTH_RADIUS_M) / (2 * EARTH_RADIUS_M))
}

/**
 * Whether a chord is within a radius, as `earth_distance(...) <= radius` decides: compared as chords
 * (no arcsine per office), measured exactly only within a hair of the edge.
 */
function withinRadius(chord: number, limit: number, radiusM: number): boolean {
  if (chord < limit * (1 - 1e-12)) return true
  if (chord > limit * (1 + 1e-12)) return false
  return greatCircle(chord) <= radiusM
}

/** A quadtree cell: a latitude/longitude box, a ball around it (centre, chord radius), and its offices or four children. */
class Cell {
  items: Int32Array | null = new Int32Array(8)
  /** Each item's slot, beside it: a radius search reads leaves in order, not the office table at random. */
  slots: Int32Array | null = new Int32Array(8)
  length = 0
  children: Cell[] | null = null
  /** Offices below it, for taking a cell wholly inside a radius. */
  count = 0
  readonly center: Point
  readonly radius: number

  constructor(
    readonly latLo: number,
    readonly lonLo: number,
    readonly size: number,
    readonly depth: number,
    readonly parent: Cell | null,
  ) {
    this.center = toEarth(latLo + size / 2, lonLo + size / 2)
    let radius = 0
    for (const lat of [latLo, latLo + size]) for (const lon of [lonLo, lonLo + size]) radius = Math.max(radius, chordBetween(this.center, toEarth(lat, lon)))
    // The farthest point of a box this small is a corner; the margin covers rounding.
    this.radius = radius * 1.001 + 1
  }

  childFor(latitude: number, longitude: number): Cell {
    const half = this.size / 2
    const row = latitude >= this.latLo + half ? 1 : 0
    const col = longitude >= this.lonLo + half ? 1 : 0
    return (this.children as Cell[])[row * 2 + col] as Cell
  }
}

export class OfficeTable {
  private capacity = 0
  private slotOf = new Int32Array(0)
  private xs = new Float64Array(0)
  private ys = new Float64Array(0)
  private zs = new Float64Array(0)
  private lats = new Float64Array(0)
  private lons = new Float64Array(0)
  private stateOf = new Uint16Array(0)
  private cityOf = new Int32Array(0)
  private positionOf = new Int32Array(0)
  /** The leaf cell that holds each office, and where in it, for removal by swap. */
  private leafOf: (Cell | undefined)[] = []
  private placeInLeaf = new Int32Array(0)
  /** The next office of the same therapist (-1: none). */
  private nextOf = new Int32Array(0)
  private firstOfSlot = new Int32Array(0)
  private used = 0
  private readonly free: number[] = []
  private readonly top = new Map<number, Cell>()
  private readonly stateIds = new Map<string, number>()
  private readonly cityIds = new Map<string, number>()
  private cells = 0

  get size(): number {
    return this.used - this.free.length
  }

  get bytes(): number {
    return this.capacity * (4 + 8 * 5 + 2 + 4 + 4 + 8 + 4 + 4) + this.firstOfSlot.byteLength + this.cells * 200 + this.size * 4
  }

  /** The id a state or a lowered city has here, or -1 when no office has it. */
  stateId(state: string): number {
    return this.stateIds.get(state) ?? -1
  }

  cityId(city: string): number {
    return this.cityIds.get(city) ?? -1
  }

  /** Gives back what growth by doubling reserved (after a bulk load), keeping an eighth for changes. */
  trim(): void {
    const capacity = Math.max(1024, this.used + (this.used >> 3))
    if (capacity < this.capacity) this.resize(capacity)
  }

  /** The slot's offices become `offices` (none: it has none). */
  replace(slot: number, offices: readonly OfficeInput[]): void {
    this.remove(slot)
    if (slot >= this.firstOfSlot.length) {
      const first = new Int32Array(Math.max(slot + 1, this.firstOfSlot.length * 2, 1024)).fill(-1)
      first.set(this.firstOfSlot)
      this.firstOfSlot = first
    }
    let next = -1
    for (let i = offices.length - 1; i >= 0; i -= 1) {
      const office = offices[i] as OfficeInput
      const index = this.allocate()
      const point = toEarth(office.latitude, office.longitude)
      this.slotOf[index] = slot
      this.xs[index] = point.x
      this.ys[index] = point.y
      this.zs[index] = point.z
      this.lats[index] = office.latitude
      this.lons[index] = office.longitude
      this.stateOf[index] = this.intern(this.stateIds, office.state)
      this.cityOf[index] = this.intern(this.cityIds, office.city)
      this.positionOf[index] = office.position
      this.nextOf[index] = next
      this.insert(index)
      next = index
    }
    this.firstOfSlot[slot] = next
  }

  remove(slot: number): void {
    if (slot >= this.firstOfSlot.length) return
    for (let index = this.firstOfSlot[slot] ?? -1; index >= 0; ) {
      const next = this.nextOf[index] ?? -1
      this.removeFromLeaf(index)
      this.free.push(index)
      index = next
    }
    this.firstOfSlot[slot] = -1
  }

  /**
   * Sets, in a bitset's words (`bits` from `base`, see BitsetStore.view), the slot of every office within
   * `radiusM` metres (earth_distance) of the point that is in the state and city given (ids from
   * stateId/cityId; -1: any). Offices of cells wholly inside the radius are taken without measuring each;
   * this is the cost of a radius search's facet counts, so it sets bits directly rather than calling back.
   */
  markWithin(latitude: number, longitude: number, radiusM: number, state: number, city: number, bits: Uint32Array, base: number): void {
    const point = toEarth(latitude, longitude)
    const limit = chordOf(radiusM)
    const take = (cell: Cell, measure: boolean): void => {
      if (cell.count === 0) return
      const fromCenter = chordBetween(point, cell.center)
      if (fromCenter - cell.radius > limit * (1 + 1e-9)) return
      const inside = !measure || fromCenter + cell.radius < limit * (1 - 1e-9)
      if (cell.children !== null) {
        for (const child of cell.children) take(child, !inside)
        return
      }
      const items = cell.items as Int32Array
      const slots = cell.slots as Int32Array
      const length = cell.length
      if (inside && state < 0 && city < 0) {
        for (let i = 0; i < length; i += 1) {
          const slot = slots[i] ?? 0
          const at = base + (slot >>> 5)
          bits[at] = (bits[at] ?? 0) | (1 << (slot & 31))
        }
        return
      }
      for (let i = 0; i < length; i += 1) {
        const office = items[i] ?? 0
        if (state >= 0 && this.stateOf[office] !== state) continue
        if (city >= 0 && this.cityOf[office] !== city) continue
        if (inside || withinRadius(this.chordTo(office, point), limit, radiusM)) {
          const slot = slots[i] ?? 0
          const at = base + (slot >>> 5)
          bits[at] = (bits[at] ?? 0) | (1 << (slot & 31))
        }
      }
    }
    for (const cell of this.topCellsNear(latitude, longitude, radiusM)) take(cell, true)
  }

  /**
   * Calls `visit(slot, chord, position)` for offices within `radiusM` (and the state and city) nearest
   * first by cell: cells are opened in order of how near they can be (a best-first walk of the quadtree).
   * Before each, `enough(bound)` is asked whether the caller has what it needs, knowing that every office
   * not yet visited is at least `bound` away (a chord); true stops the walk.
   */
  nearestFirst(
    latitude: number,
    longitude: number,
    radiusM: number,
    state: number,
    city: number,
    visit: (slot: number, chord: number, position: number) => void,
    enough: (bound: number) => boolean,
  ): void {
    const point = toEarth(latitude, longitude)
    const limit = chordOf(radiusM)
    const queue = new CellQueue()
    const push = (cell: Cell) => {
      if (cell.count === 0) return
      const near = Math.max(0, chordBetween(point, cell.center) - cell.radius)
      if (near <= limit * (1 + 1e-9)) queue.push(cell, near)
    }
    for (const cell of this.topCellsNear(latitude, longitude, radiusM)) push(cell)
    for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
      if (enough(next.near)) return
      const cell = next.cell
      if (cell.children !== null) {
        for (const child of cell.children) push(child)
        continue
      }
      const items = cell.items as Int32Array
      for (let i = 0; i < cell.length; i += 1) {
        const office = items[i] ?? 0
        if (state >= 0 && this.stateOf[office] !== state) continue
        if (city >= 0 && this.cityOf[office] !== city) continue
        const chord = this.chordTo(office, point)
        if (withinRadius(chord, limit, radiusM)) visit(this.slotOf[office] ?? 0, chord, this.positionOf[office] ?? 0)
      }
    }
  }

  /**
   * The chord to the nearest of a slot's offices that is within `radiusM` (and the state and city), or
   * null when none is: where a distance cursor's therapist stands, as this engine measures it.
   */
  nearestOf(slot: number, latitude: number, longitude: number, radiusM: number, state: number, city: number): number | null {
    const point = toEarth(latitude, longitude)
    const limit = chordOf(radiusM)
    let best: number | null = null
    for (let office = slot < this.firstOfSlot.length ? (this.firstOfSlot[slot] ?? -1) : -1; office >= 0; office = this.nextOf[office] ?? -1) {
      if (state >= 0 && this.stateOf[office] !== state) continue
      if (city >= 0 && this.cityOf[office] !== city) continue
      const chord = this.chordTo(office, point)
      if (withinRadius(chord, limit, radiusM) && (best === null || chord < best)) best = chord
    }
    return best
  }

  /** The `<->` of an office and a point. */
  private chordTo(office: number, point: Point): number {
    const dx = (this.xs[office] ?? 0) - point.x
    const dy = (this.ys[office] ?? 0) - point.y
    const dz = (this.zs[office] ?? 0) - point.z
    return Math.sqrt(dx * dx + dy * dy + dz * dz)
  }

  /** The top cells that may hold offices within `radiusM` of the point. */
  private topCellsNear(latitude: number, longitude: number, radiusM: number): Cell[] {
    const angle = radiusM / EARTH_RADIUS_M / RADIANS + 1e-6
    const latLo = latitude - angle
    const latHi = latitude + angle
    let lonSpan = 180
    if (latLo > -90 && latHi < 90) {
      const widest = Math.max(Math.abs(latLo), Math.abs(latHi)) * RADIANS
      const ratio = Math.sin(angle * RADIANS) / Math.cos(widest)
      if (ratio < 1) lonSpan = Math.asin(ratio) / RADIANS + 1e-6
    }
    const rowLo = Math.max(0, Math.floor((Math.max(-90, latLo) + 90) / TOP_DEGREES))
    const rowHi = Math.floor((Math.min(90, latHi) + 90) / TOP_DEGREES)
    const colLo = Math.floor((longitude - lonSpan + 180) / TOP_DEGREES)
    const colHi = lonSpan >= 180 ? colLo + LON_CELLS - 1 : Math.min(colLo + LON_CELLS - 1, Math.floor((longitude + lonSpan + 180) / TOP_DEGREES))
    const cells: Cell[] = []
    for (let row = rowLo; row <= rowHi; row += 1) {
      for (let col = colLo; col <= colHi; col += 1) {
        const cell = this.top.get(row * LON_CELLS + (((col % LON_CELLS) + LON_CELLS) % LON_CELLS))
        if (cell !== undefined && cell.count > 0) cells.push(cell)
      }
    }
    return cells
  }

  private intern(ids: Map<string, number>, key: string): number {
    let id = ids.get(key)
    if (id === undefined) {
      id = ids.size
      ids.set(key, id)
    }
    return id
  }

  private allocate(): number {
    const reused = this.free.pop()
    if (reused !== undefined) return reused
    if (this.used === this.capacity) this.resize(Math.max(1024, this.capacity * 2))
    return this.used++
  }

  private resize(capacity: number): void {
    const grown = <T extends Int32Array | Float64Array | Uint16Array>(array: T, make: (n: number) => T): T => {
      const next = make(capacity)
      next.set(array.subarray(0, Math.min(array.length, capacity)))
      return next
    }
    this.slotOf = grown(this.slotOf, (n) => new Int32Array(n))
    this.xs = grown(this.xs, (n) => new Float64Array(n))
    this.ys = grown(this.ys, (n) => new Float64Array(n))
    this.zs = grown(this.zs, (n) => new Float64Array(n))
    this.lats = grown(this.lats, (n) => new Float64Array(n))
    this.lons = grown(this.lons, (n) => new Float64Array(n))
    this.stateOf = grown(this.stateOf, (n) => new Uint16Array(n))
    this.cityOf = grown(this.cityOf, (n) => new Int32Array(n))
    this.positionOf = grown(this.positionOf, (n) => new Int32Array(n))
    this.placeInLeaf = grown(this.placeInLeaf, (n) => new Int32Array(n))
    this.nextOf = grown(this.nextOf, (n) => new Int32Array(n))
    this.capacity = capacity
  }

  private insert(office: number): void {
    const latitude = this.lats[office] ?? 0
    const longitude = this.lons[office] ?? 0
    const row = Math.min(Math.floor((latitude + 90) / TOP_DEGREES), 180 / TOP_DEGREES - 1)
    const col = Math.floor((longitude + 180) / TOP_DEGREES) % LON_CELLS
    const key = row * LON_CELLS + col
    let cell = this.top.get(key)
    if (cell === undefined) {
      cell = new Cell(row * TOP_DEGREES - 90, col * TOP_DEGREES - 180, TOP_DEGREES, 0, null)
      this.top.set(key, cell)
      this.cells += 1
    }
    while (cell.children !== null) {
      cell.count += 1
      cell = cell.childFor(latitude, longitude)
    }
    cell.count += 1
    this.addToLeaf(cell, office)
    if (cell.length > LEAF_OFFICES && cell.depth < MAX_DEPTH) this.split(cell)
  }

  private addToLeaf(cell: Cell, office: number): void {
    let items = cell.items as Int32Array
    let slots = cell.slots as Int32Array
    if (cell.length === items.length) {
      const grown = new Int32Array(items.length * 2)
      grown.set(items)
      items = cell.items = grown
      const grownSlots = new Int32Array(items.length)
      grownSlots.set(slots)
      slots = cell.slots = grownSlots
    }
    this.placeInLeaf[office] = cell.length
    items[cell.length] = office
    slots[cell.length] = this.slotOf[office] ?? 0
    cell.length += 1
    this.leafOf[office] = cell
  }

  /** A crowded leaf becomes four leaves (a quarter of its box each). */
  private split(cell: Cell): void {
    const half = cell.size / 2
    cell.children = [0, 1, 2, 3].map((i) => new Cell(cell.latLo + (i >> 1) * half, cell.lonLo + (i & 1) * half, half, cell.depth + 1, cell))
    this.cells += 4
    const items = cell.items as Int32Array
    const length = cell.length
    cell.items = null
    cell.slots = null
    cell.length = 0
    for (let i = 0; i < length; i += 1) {
      const office = items[i] ?? 0
      const child = cell.childFor(this.lats[office] ?? 0, this.lons[office] ?? 0)
      child.count += 1
      this.addToLeaf(child, office)
    }
    for (const child of cell.children) if (child.length > LEAF_OFFICES && child.depth < MAX_DEPTH) this.split(child)
  }

  private removeFromLeaf(office: number): void {
    const cell = this.leafOf[office]
    if (cell === undefined) return
    const items = cell.items as Int32Array
    const slots = cell.slots as Int32Array
    const at = this.placeInLeaf[office] ?? 0
    const last = items[cell.length - 1] ?? 0
    items[at] = last
    slots[at] = slots[cell.length - 1] ?? 0
    this.placeInLeaf[last] = at
    cell.length -= 1
    this.leafOf[office] = undefined
    for (let up: Cell | null = cell; up !== null; up = up.parent) up.count -= 1
  }
}

/** A min-queue of cells by how near they can be (a binary heap). */
class CellQueue {
  private readonly cells: Cell[] = []
  private readonly nears: number[] = []

  push(cell: Cell, near: number): void {
    this.cells.push(cell)
    this.nears.push(near)
    for (let i = this.cells.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1
      if ((this.nears[parent] ?? 0) <= near) break
      this.swap(i, parent)
      i = parent
    }
  }

  pop(): { cell: Cell; near: number } | undefined {
    const cell = this.cells[0]
    const near = this.nears[0]
    if (cell === undefined || near === undefined) return undefined
    const lastCell = this.cells.pop() as Cell
    const lastNear = this.nears.pop() as number
    if (this.cells.length > 0) {
      this.cells[0] = lastCell
      this.nears[0] = lastNear
      for (let i = 0; ; ) {
        const left = 2 * i + 1
        const right = left + 1
        let least = i
        if (left < this.cells.length && (this.nears[left] ?? 0) < (this.nears[least] ?? 0)) least = left
        if (right < this.cells.length && (this.nears[right] ?? 0) < (this.nears[least] ?? 0)) least = right
        if (least === i) break
        this.swap(i, least)
        i = least
      }
    }
    return { cell, near }
  }

  private swap(i: number, j: number): void {
    ;[this.cells[i], this.cells[j]] = [this.cells[j] as Cell, this.cells[i] as Cell]
    ;[this.nears[i], this.nears[j]] = [this.nears[j] as number, this.nears[i] as number]
  }
}
