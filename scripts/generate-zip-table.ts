/**
 * `npm run zip-table`: writes assets/us-zip-codes.tsv, the US ZIP code centroids the directory
 * places offices and searchers with, from the `zipcodes` package (a dev dependency; its data file
 * is all it ships, so the app cannot use its API at run time). Keeps the ZIPs the directory can use
 * (five digits, a position, a state or territory it serves), in the package's own order, so lookups
 * and ties behave as they did when the package was read directly.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import data from 'zipcodes/lib/codes.js'
import { US_STATES } from '../src/modules/directory/postal-codes.js'

const target = fileURLToPath(new URL('../assets/us-zip-codes.tsv', import.meta.url))
const states = new Set<string>(US_STATES)
const rows: string[] = []
for (const entry of Object.values(data.codes)) {
  const latitude = Number(entry.latitude)
  const longitude = Number(entry.longitude)
  if (entry.latitude === null || entry.longitude === null || !Number.isFinite(latitude) || !Number.isFinite(longitude)) continue
  if (!states.has(entry.state) || !/^\d{5}$/.test(entry.zip) || /[\t\n]/.test(entry.city)) continue
  rows.push([entry.zip, latitude, longitude, entry.city, entry.state].join('\t'))
}
writeFileSync(target, `zip\tlatitude\tlongitude\tcity\tstate\n${rows.join('\n')}\n`)
console.log(`wrote ${rows.length} ZIP codes to ${target}`)
