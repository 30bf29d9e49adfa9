// The one file of the `zipcodes` package we load: US ZIP codes with centroid, city and state.
declare module 'zipcodes/lib/codes.js' {
  interface ZipCodeEntry {
    zip: string
    latitude: number | string | null
    longitude: number | string | null
    city: string
    state: string
    country: string
  }
  const data: { codes: Record<string, ZipCodeEntry> }
  export default data
}
