import { z } from 'zod'
import { ValidationError } from './errors.js'
import { canonicalTimeZone, nextDay, startOfLocalDay } from './local-time.js'

/**
 * One convention for every period a client asks for (journal lists and insights, assessment lists):
 * `from` and `to` are each a calendar date, read in the request's `tz` as the whole day (`from` from
 * its first instant, `to` through its last), or a date-time with offset; both ends are inclusive;
 * `from` after `to` is a 400 naming `from`. The schema parses each value once; `resolveRange` turns
 * them into instants.
 */

/** How far ahead of the server's clock a client-supplied time (`occurredAt`, `takenAt`) may be, for clocks that run fast. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000

/** Said in every OpenAPI description of a period, so clients read one rule everywhere. */
export const RANGE_CONVENTION =
  'Both ends are inclusive; a date (2026-03-01) is the whole day in `tz`, a date-time needs an offset (2026-03-01T09:00:00Z). `from` after `to` is a 400.'

/** A `from`/`to` value: a calendar date in the request's time zone, or an instant. */
export type DateOrInstant = { date: string } | { instant: Date }

const PLAIN_DATE = /^\d{4}-\d{2}-\d{2}$/
const DateSchema = z.iso.date()
const DateTimeSchema = z.iso.datetime({ offset: true })

export const DateOrInstantSchema = z
  .string()
  .transform((value, ctx): DateOrInstant => {
    if (PLAIN_DATE.test(value) ? DateSchema.safeParse(value).success : DateTimeSchema.safeParse(value).success) {
      return PLAIN_DATE.test(value) ? { date: value } : { instant: new Date(value) }
    }
    ctx.issues.push({ code: 'custom', input: value, message: 'Use a date (2026-03-01) or a date-time with offset (2026-03-01T09:00:00Z).' })
    return z.NEVER
  })

/** An IANA time zone (any case), in its canonical spelling; default UTC. */
/** An IANA zone name, in its usual spelling; no default (for bodies, where absent means "unchanged"). */
export const TimeZoneNameSchema = z
  .string()
  .transform((value, ctx) => {
    const zone = canonicalTimeZone(value)
    if (zone === null) {
      ctx.issues.push({ code: 'custom', input: value, message: `Unknown time zone ${JSON.stringify(value)}: use an IANA name such as Europe/Berlin or America/New_York.` })
      return z.NEVER
    }
    return zone
  })
  .meta({ example: 'Europe/Berlin' })

export const TimeZoneSchema = z
  .string()
  .default('UTC')
  .pipe(TimeZoneNameSchema)
  .meta({ example: 'Europe/Berlin' })

/**
 * The instants a period covers, both included: plain dates are whole days in `timeZone`.
 * @throws ValidationError (`invalid_range`, naming `from`) when `from` is after `to`
 */
export function resolveRange(from: DateOrInstant | undefined, to: DateOrInstant | undefined, timeZone: string): { from?: Date; to?: Date } {
  const range = {
    from: from === undefined ? undefined : 'date' in from ? startOfLocalDay(from.date, timeZone) : from.instant,
    to: to === undefined ? undefined : 'date' in to ? new Date(startOfLocalDay(nextDay(to.date), timeZone).getTime() - 1) : to.instant,
  }
  if (range.from && range.to && range.from > range.to) {
    throw new ValidationError('`from` is after `to`.', [{ in: 'query', field: 'from', message: 'Must not be after `to`.', code: 'invalid_range' }])
  }
  return range
}
