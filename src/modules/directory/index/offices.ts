/**
 * Every office of the directory index, for radius searches: its therapist's slot, its point on
 * earthdistance's sphere, its state and city, and a grid of 0.05° cells so a search looks only at the
 * offices near its point.
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
/** 0.05° is about 5.5 km: a dense city's nearest offices come from a few cells of a few hundred offices. */
const CELL_DEGREES = 0.05
const LON_CELLS = Math.round(360 / CELL_DEGREES)

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

export interface OfficeMatch {
  office: number
  slot: number
  chord: number
  position: number
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

/** A grid cell: its offices, and a ball around it (centre, chord radius) that bounds their distances from any point. */
interface Cell {
  items: Int32Array
  length: number
  center: Point
  radius: number
}

const chordBetween = (a: Point, b: Point) => Math.sqrt((a.x - b.x) ** 2 + (a.y - b.y) ** 2 + (a.z - b.z) ** 2)

/** The chord of a great-circle distance (earthdistance's gc_to_sec): a radius as a bound on chords. */
export function chordOf(distanceM: number): number {
  return 2 * EARTH_RADIUS_M * Math.sin(Math.min(distanceM, Math.PI * EARTH_RADIUS_M) / (2 * EARTH_RADIUS_M))
}

function cellGeometry(key: number): { center: Point; radius: number } {
  const row = Math.floor(key / LON_CELLS)
  const col = key % LON_CELLS
  const lat0 = row * CELL_DEGREES - 90
  const lon0 = col * CELL_DEGREES - 180
  const center = toEarth(lat0 + CELL_DEGREES / 2, lon0 + CELL_DEGREES / 2)
  let radius = 0
  for (const lat of [lat0, lat0 + CELL_DEGREES]) for (const lon of [lon0, lon0 + CELL_DEGREES]) radius = Math.max(radius, chordBetween(center, toEarth(lat, lon)))
  // The farthest point of a cell this small is a corner; the margin covers rounding.
  return { center, radius: radius * 1.001 + 1 }
}

const cellOf = (latitude: number, longitude: number): number =>
  Math.floor((latitude + 90) / CELL_DEGREES) * LON_CELLS + (Math.floor((longitude + 180) / CELL_DEGREES) % LON_CELLS)

export class OfficeTable {
  private capacity = 0
  private slotOf = new Int32Array(0)
  private xs = new Float64Array(0)
  private ys = new Float64Array(0)
  private zs = new Float64Array(0)
  private stateOf = new Uint16Array(0)
  private cityOf = new Int32Array(0)
  private positionOf = new Int32Array(0)
  private cellOfOffice = new Int32Array(0)
  /** Where the office sits in its cell's list, for removal by swap. */
  private placeInCell = new Int32Array(0)
  /** The next office of the same therapist (-1: none). */
  private nextOf = new Int32Array(0)
  private firstOfSlot = new Int32Array(0)
  private used = 0
  private readonly free: number[] = []
  private readonly cells = new Map<number, Cell>()
  private readonly stateIds = new Map<string, number>()
  private readonly cityIds = new Map<string, number>()

  get size(): number {
    return this.used - this.free.length
  }

  get bytes(): number {
    let bytes = this.capacity * (4 + 8 * 3 + 2 + 4 + 4 + 4 + 4 + 4) + this.firstOfSlot.byteLength
    for (const cell of this.cells.values()) bytes += cell.items.byteLength
    return bytes
  }

  /** The id a state or a lowered city has here, or -1 when no office has it. */
  stateId(state: string): number {
    return this.stateIds.get(state) ?? -1
  }

  cityId(city: string): number {
    return this.cityIds.get(city) ?? -1
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
      this.stateOf[index] = this.intern(this.stateIds, office.state)
      this.cityOf[index] = this.intern(this.cityIds, office.city)
      this.positionOf[index] = office.position
      this.nextOf[index] = next
      const cell = cellOf(office.latitude, office.longitude)
      this.cellOfOffice[index] = cell
      this.addToCell(cell, index)
      next = index
    }
    this.firstOfSlot[slot] = next
  }

  remove(slot: number): void {
    if (slot >= this.firstOfSlot.length) return
    for (let index = this.firstOfSlot[slot] ?? -1; index >= 0; ) {
      const next = this.nextOf[index] ?? -1
      this.removeFromCell(index)
      this.free.push(index)
      index = next
    }
    this.firstOfSlot[slot] = -1
  }

  /**
   * Calls `visit` with the slot of every office within `radiusM` metres (earth_distance) of the point
   * that is in the state and city given (ids from stateId/cityId; -1: any). A slot with several such
   * offices is visited once per office. Offices of cells wholly inside the radius are taken without
   * measuring each.
   */
  markWithin(latitude: number, longitude: number, radiusM: number, state: number, city: number, visit: (slot: number) => void): void {
    const point = toEarth(latitude, longitude)
    const limit = chordOf(radiusM)
    for (const cell of this.cellsNear(latitude, longitude, radiusM)) {
      const far = chordBetween(point, cell.center) + cell.radius
      const inside = far < limit * (1 - 1e-9)
      for (let i = 0; i < cell.length; i += 1) {
        const office = cell.items[i] ?? 0
        if (state >= 0 && this.stateOf[office] !== state) continue
        if (city >= 0 && this.cityOf[office] !== city) continue
        if (inside || withinRadius(this.chordTo(office, point), limit, radiusM)) visit(this.slotOf[office] ?? 0)
      }
    }
  }

  /**
   * Calls `visit` for offices within `radiusM` (and the state and city) roughly nearest first: a cell
   * at a time, cells by how near they can be. Before each cell, `enough(bound)` is asked whether the
   * caller has what it needs, knowing that every office not yet visited is at least `bound` away (a
   * chord); true stops the scan.
   */
  nearestFirst(
    latitude: number,
    longitude: number,
    radiusM: number,
    state: number,
    city: number,
    visit: (match: OfficeMatch) => void,
    enough: (bound: number) => boolean,
  ): void {
    const point = toEarth(latitude, longitude)
    const limit = chordOf(radiusM)
    const cells = this.cellsNear(latitude, longitude, radiusM).map((cell) => ({ cell, near: Math.max(0, chordBetween(point, cell.center) - cell.radius) }))
    cells.sort((a, b) => a.near - b.near)
    for (const { cell, near } of cells) {
      if (enough(near)) return
      for (let i = 0; i < cell.length; i += 1) {
        const office = cell.items[i] ?? 0
        if (state >= 0 && this.stateOf[office] !== state) continue
        if (city >= 0 && this.cityOf[office] !== city) continue
        const chord = this.chordTo(office, point)
        if (withinRadius(chord, limit, radiusM)) visit({ office, slot: this.slotOf[office] ?? 0, chord, position: this.positionOf[office] ?? 0 })
      }
    }
  }

  /** The `<->` of an office and a point. */
  private chordTo(office: number, point: Point): number {
    const dx = (this.xs[office] ?? 0) - point.x
    const dy = (this.ys[office] ?? 0) - point.y
    const dz = (this.zs[office] ?? 0) - point.z
    return Math.sqrt(dx * dx + dy * dy + dz * dz)
  }

  /** The non-empty cells that may hold offices within `radiusM` of the point. */
  private cellsNear(latitude: number, longitude: number, radiusM: number): Cell[] {
    const angle = radiusM / EARTH_RADIUS_M / RADIANS + 1e-6
    const latLo = latitude - angle
    const latHi = latitude + angle
    let lonSpan = 180
    if (latLo > -90 && latHi < 90) {
      const widest = Math.max(Math.abs(latLo), Math.abs(latHi)) * RADIANS
      const ratio = Math.sin(angle * RADIANS) / Math.cos(widest)
      if (ratio < 1) lonSpan = Math.asin(ratio) / RADIANS + 1e-6
    }
    const rowLo = Math.max(0, Math.floor((Math.max(-90, latLo) + 90) / CELL_DEGREES))
    const rowHi = Math.floor((Math.min(90, latHi) + 90) / CELL_DEGREES)
    const colLo = Math.floor((longitude - lonSpan + 180) / CELL_DEGREES)
    const colHi = lonSpan >= 180 ? colLo + LON_CELLS - 1 : Math.min(colLo + LON_CELLS - 1, Math.floor((longitude + lonSpan + 180) / CELL_DEGREES))
    const cells: Cell[] = []
    for (let row = rowLo; row <= rowHi; row += 1) {
      for (let col = colLo; col <= colHi; col += 1) {
        const cell = this.cells.get(row * LON_CELLS + (((col % LON_CELLS) + LON_CELLS) % LON_CELLS))
        if (cell !== undefined && cell.length > 0) cells.push(cell)
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
    if (this.used === this.capacity) this.grow(Math.max(1024, this.capacity * 2))
    return this.used++
  }

  private grow(capacity: number): void {
    const grown = <T extends Int32Array | Float64Array | Uint16Array>(array: T, make: (n: number) => T): T => {
      const next = make(capacity)
      next.set(array)
      return next
    }
    this.slotOf = grown(this.slotOf, (n) => new Int32Array(n))
    this.xs = grown(this.xs, (n) => new Float64Array(n))
    this.ys = grown(this.ys, (n) => new Float64Array(n))
    this.zs = grown(this.zs, (n) => new Float64Array(n))
    this.stateOf = grown(this.stateOf, (n) => new Uint16Array(n))
    this.cityOf = grown(this.cityOf, (n) => new Int32Array(n))
    this.positionOf = grown(this.positionOf, (n) => new Int32Array(n))
    this.cellOfOffice = grown(this.cellOfOffice, (n) => new Int32Array(n))
    this.placeInCell = grown(this.placeInCell, (n) => new Int32Array(n))
    this.nextOf = grown(this.nextOf, (n) => new Int32Array(n))
    this.capacity = capacity
  }

  private addToCell(key: number, office: number): void {
    let cell = this.cells.get(key)
    if (cell === undefined) {
      cell = { items: new Int32Array(8), length: 0, ...cellGeometry(key) }
      this.cells.set(key, cell)
    }
    if (cell.length === cell.items.length) {
      const items = new Int32Array(cell.items.length * 2)
      items.set(cell.items)
      cell.items = items
    }
    this.placeInCell[office] = cell.length
    cell.items[cell.length] = office
    cell.length += 1
  }

  private removeFromCell(office: number): void {
    const cell = this.cells.get(this.cellOfOffice[office] ?? 0)
    if (cell === undefined) return
    const at = this.placeInCell[office] ?? 0
    const last = cell.items[cell.length - 1] ?? 0
    cell.items[at] = last
    this.placeInCell[last] = at
    cell.length -= 1
  }
}
