/**
 * Time-zone helpers: validating a user's IANA zone, the calendar day an instant falls on in it, and
 * the instant a calendar day starts. Journal insights group by local day in SQL with `AT TIME ZONE`,
 * which both backends evaluate the same way; these give the same answers in JS.
 */

/** IANA names only (`Europe/Berlin`, `UTC`, `Etc/GMT+5`): bare offsets mean the opposite in Postgres. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/

/**
 * The IANA time zone `name` denotes, in its usual spelling (any case accepted; an alias such as
 * `Asia/Kolkata` is kept as given), or null if it is not one.
 */
export function canonicalTimeZone(name: string): string | null {
  if (name.length > 64 || !ZONE_NAME.test(name)) return null
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone
    return resolved.toLowerCase() === name.toLowerCase() ? resolved : name
  } catch {
    return null
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>()

/** How far `timeZone` is ahead of UTC at `instant`, in milliseconds. */
function offsetAt(instant: number, timeZone: string): number {
  let format = formatters.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, format)
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(instant)).map((part) => [part.type, part.value]))
  const wallClock = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second))
  return wallClock - (instant - (((instant % 1000) + 1000) % 1000))
}

/**
 * The instant a calendar day (`YYYY-MM-DD`) begins in `timeZone`. Where a DST change skips
 * midnight, the day begins at the change; where midnight happens twice, at the first one.
 */
export function startOfLocalDay(date: string, timeZone: string): Date {
  const [year, month, day] = date.split('-').map(Number)
  const wallMidnight = Date.UTC(year ?? 1970, (month ?? 1) - 1, day ?? 1)
  const halfDay = 12 * 60 * 60 * 1000
  // The zone's offsets on either side of any change near that midnight (zones change at most once a day).
  const candidates = [...new Set([wallMidnight - offsetAt(wallMidnight - halfDay, timeZone), wallMidnight - offsetAt(wallMidnight + halfDay, timeZone)])]
  const exact = candidates.filter((instant) => instant + offsetAt(instant, timeZone) === wallMidnight)
  return new Date(exact.length > 0 ? Math.min(...exact) : Math.max(...candidates))
}

/** The calendar day (`YYYY-MM-DD`) `instant` falls on in `timeZone`. */
export function localDate(instant: Date, timeZone: string): string {
  const at = instant.getTime()
  return new Date(at + offsetAt(at, timeZone)).toISOString().slice(0, 10)
}

/** `YYYY-MM-DD` plus `days` (negative goes back). */
export function addDays(date: string, days: number): string {
  const next = new Date(`${date}T00:00:00Z`)
  next.setUTCDate(next.getUTCDate() + days)
  return next.toISOString().slice(0, 10)
}

/** The day after `YYYY-MM-DD`. */
export const nextDay = (date: string): string => addDays(date, 1)

/**
 * The first day of the ISO week (from Monday) or calendar month holding `date`, moved `back` weeks
 * or months earlier: what `date_trunc` and an interval give in SQL.
 */
export function bucketStart(date: string, bucket: 'week' | 'month', back = 0): string {
  const day = new Date(`${date}T00:00:00Z`)
  if (bucket === 'week') return addDays(date, -((day.getUTCDay() + 6) % 7) - 7 * back)
  return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() - back, 1)).toISOString().slice(0, 10)
}
