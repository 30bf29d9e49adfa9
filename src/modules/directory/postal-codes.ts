/**
 * US ZIP code centroids, from the `zipcodes` npm package (BSD licence; about 42,000 US ZIP codes
 * with latitude/longitude, city and state, compiled from GeoNames and the federal ZIP code
 * database). Only its US table is loaded, and only on first use (about 0.3 s and 25 MB), so a
 * process that never searches by postal code never pays for it.
 */

export interface PostalCode {
  postalCode: string
  latitude: number
  longitude: number
  city: string
  state: string
}

/** States, DC and the inhabited territories: what `state` accepts and what offices may be in. */
export const US_STATES = [
  'AL', 'AK', 'AZ', 'AR', 'CA', 'CO', 'CT', 'DE', 'DC', 'FL', 'GA', 'HI', 'ID', 'IL', 'IN', 'IA', 'KS', 'KY', 'LA', 'ME',
  'MD', 'MA', 'MI', 'MN', 'MS', 'MO', 'MT', 'NE', 'NV', 'NH', 'NJ', 'NM', 'NY', 'NC', 'ND', 'OH', 'OK', 'OR', 'PA', 'RI',
  'SC', 'SD', 'TN', 'TX', 'UT', 'VT', 'VA', 'WA', 'WV', 'WI', 'WY', 'PR', 'VI', 'GU', 'AS', 'MP',
] as const
const STATE_SET = new Set<string>(US_STATES)

interface Table {
  byZip: Map<string, PostalCode>
  /** Every entry, in load order; `grid` holds positions in it. */
  entries: PostalCode[]
  /** Entries by 1° cell (see `cellKey`), so `nearestState` looks at a few cells, not all 42,000 ZIPs. */
  grid: Map<number, number[]>
}

let table: Promise<Table> | undefined

/** The 1° cell of a point: latitude and longitude rounded down, as one number. */
const cellKey = (latCell: number, lonCell: number) => (latCell + 90) * 1000 + (lonCell + 180)

async function load(): Promise<Table> {
  const { default: data } = await import('../../lib/us-zip-codes.js')
  const byZip = new Map<string, PostalCode>()
  for (const entry of Object.values(data.codes)) {
    const latitude = Number(entry.latitude)
    const longitude = Number(entry.longitude)
    // A few hundred entries (PO boxes, military APO/FPO) have no position or no state we serve.
    if (entry.latitude === null || entry.longitude === null || !Number.isFinite(latitude) || !Number.isFinite(longitude)) continue
    if (!STATE_SET.has(entry.state) || !/^\d{5}$/.test(entry.zip)) continue
    byZip.set(entry.zip, { postalCode: entry.zip, latitude, longitude, city: entry.city, state: entry.state })
  }
  const entries = [...byZip.values()]
  const grid = new Map<number, number[]>()
  entries.forEach((entry, index) => {
    const key = cellKey(Math.floor(entry.latitude), Math.floor(entry.longitude))
    const cell = grid.get(key)
    if (cell) cell.push(index)
    else grid.set(key, [index])
  })
  return { byZip, entries, grid }
}

function loaded(): Promise<Table> {
  table ??= load()
  return table
}

/** Every US ZIP code with a centroid. */
export async function postalCodes(): Promise<Map<string, PostalCode>> {
  return (await loaded()).byZip
}

/** The centroid of a 5-digit ZIP code (a ZIP+4 uses its first five digits), or undefined. */
export async function lookupPostalCode(code: string): Promise<PostalCode | undefined> {
  const zip = /^(\d{5})(-\d{4})?$/.exec(code.trim())?.[1]
  return zip === undefined ? undefined : (await postalCodes()).get(zip)
}

/** Farther than this from every ZIP centroid (in degrees of latitude, longitude scaled by cos(latitude)) is not in the US. */
const MAX_OFFSET_DEGREES = 1.5

/**
 * The state of the ZIP centroid nearest to a point: which state a searcher is in, from coordinates.
 * Only the 1° cells within MAX_OFFSET_DEGREES are read (a few hundred ZIPs at most, not all of them);
 * a centroid outside them is too far to count anyway. Ties go to the ZIP loaded first.
 */
export async function nearestState(latitude: number, longitude: number): Promise<string | undefined> {
  const { entries, grid } = await loaded()
  const cosLat = Math.cos((latitude * Math.PI) / 180)
  const lonReach = cosLat > MAX_OFFSET_DEGREES / 180 ? MAX_OFFSET_DEGREES / cosLat : 180
  let best = -1
  let bestScore = MAX_OFFSET_DEGREES * MAX_OFFSET_DEGREES
  for (let latCell = Math.floor(latitude - MAX_OFFSET_DEGREES); latCell <= Math.floor(latitude + MAX_OFFSET_DEGREES); latCell += 1) {
    for (let lonCell = Math.max(-180, Math.floor(longitude - lonReach)); lonCell <= Math.min(180, Math.floor(longitude + lonReach)); lonCell += 1) {
      for (const index of grid.get(cellKey(latCell, lonCell)) ?? []) {
        const entry = entries[index]
        if (entry === undefined) continue
        const dLat = entry.latitude - latitude
        const dLon = (entry.longitude - longitude) * cosLat
        const score = dLat * dLat + dLon * dLon
        if (score < bestScore || (score === bestScore && best !== -1 && index < best)) {
          bestScore = score
          best = index
        }
      }
    }
  }
  return entries[best]?.state
}
