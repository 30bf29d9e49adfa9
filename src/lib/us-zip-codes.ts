import { readFileSync } from 'node:fs'

/** US ZIP centroids by ZIP, from assets/us-zip-codes.tsv (source and licence in assets/README.md); read on first import. */
const codes: Record<string, { zip: string; latitude: number; longitude: number; city: string; state: string }> = {}
for (const line of readFileSync(new URL('../../assets/us-zip-codes.tsv', import.meta.url), 'utf8').split('\n').slice(1)) {
  const [zip, latitude, longitude, city, state] = line.split('\t')
  if (zip && latitude && longitude && city !== undefined && state) codes[zip] = { zip, latitude: Number(latitude), longitude: Number(longitude), city, state }
}

export default { codes }
