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

let table: Promise<Map<string, PostalCode>> | undefined

async function load(): Promise<Map<string, PostalCode>> {
  const { default: data } = await import('zipcodes/lib/codes.js')
  const map = new Map<string, PostalCode>()
  for (const entry of Object.values(data.codes)) {
    const latitude = Number(entry.latitude)
    const longitude = Number(entry.longitude)
    // A few hundred entries (PO boxes, military APO/FPO) have no position or no state we serve.
    if (entry.latitude === null || entry.longitude === null || !Number.isFinite(latitude) || !Number.isFinite(longitude)) continue
    if (!STATE_SET.has(entry.state) || !/^\d{5}$/.test(entry.zip)) continue
    map.set(entry.zip, { postalCode: entry.zip, latitude, longitude, city: entry.city, state: entry.state })
  }
  return map
}

/** Every US ZIP code with a centroid. */
export function postalCodes(): Promise<Map<string, PostalCode>> {
  table ??= load()
  return table
}

/** The centroid of a 5-digit ZIP code (a ZIP+4 uses its first five digits), or undefined. */
export async function lookupPostalCode(code: string): Promise<PostalCode | undefined> {
  const zip = /^(\d{5})(-\d{4})?$/.exec(code.trim())?.[1]
  return zip === undefined ? undefined : (await postalCodes()).get(zip)
}

/** The state of the ZIP centroid nearest to a point: which state a searcher is in, from coordinates. */
export async function nearestState(latitude: number, longitude: number): Promise<string | undefined> {
  let best: PostalCode | undefined
  let bestScore = Infinity
  const cosLat = Math.cos((latitude * Math.PI) / 180)
  for (const entry of (await postalCodes()).values()) {
    const dLat = entry.latitude - latitude
    const dLon = (entry.longitude - longitude) * cosLat
    const score = dLat * dLat + dLon * dLon
    if (score < bestScore) {
      bestScore = score
      best = entry
    }
  }
  // Farther than ~1.5° from any ZIP centroid is not in the US.
  return best !== undefined && bestScore < 2.25 ? best.state : undefined
}
