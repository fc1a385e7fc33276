// When an HR date takes effect. Kombo sends start and termination dates as calendar days stamped
// at midnight UTC (`2026-12-01T00:00:00.000Z`), or as plain `2026-12-01`. They mean a day in the
// tenant's time zone, not that instant: access begins at 00:00 local on the start date, and the
// termination date is the last day of employment, so access ends at 00:00 local on the next day.
// A date that carries a real time of day (anything but midnight UTC) is taken as that instant.
//
// The only module that turns an HR date into an instant: the decisions, the clock's next-due time,
// the Learn Amp mapping, as-of reads and the feed all go through it, so they always agree.
// Local midnight is found with Intl.DateTimeFormat (the platform's tz database), correct across
// DST changes, with no dependency.

/** A calendar day (`YYYY-MM-DD`) or an exact instant (ms since the epoch). */
export type HrDate = { kind: 'day'; day: string } | { kind: 'instant'; at: number }

const DAY_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/
const DAY_MS = 24 * 60 * 60 * 1000

/** Reads a Kombo date string; null when it is not a date. */
export function readHrDate(value: string): HrDate | null {
  if (DAY_ONLY.test(value)) return Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ? null : { kind: 'day', day: value }
  const at = Date.parse(value)
  if (Number.isNaN(at)) return null
  // Midnight UTC is how Kombo writes a calendar day; any other time of day is a real instant.
  if (at % DAY_MS === 0) return { kind: 'day', day: new Date(at).toISOString().slice(0, 10) }
  return { kind: 'instant', at }
}

const formatters = new Map<string, Intl.DateTimeFormat>()
function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** The wall-clock time in `timeZone` at instant `at`, as if it were UTC (ms), to the second. */
function wallClockAsUtc(at: number, timeZone: string): number {
  const p: Record<string, number> = {}
  for (const part of formatterOf(timeZone).formatToParts(new Date(at))) if (part.type !== 'literal') p[part.type] = Number(part.value)
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second)
}

/** The calendar day in `timeZone` at instant `at` (`YYYY-MM-DD`). */
export function localDayOf(at: number, timeZone: string): string {
  return new Date(wallClockAsUtc(at, timeZone)).toISOString().slice(0, 10)
}

/** `day` plus `days` calendar days (negative to go back). */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10)
}

/** A memo of instants by key that forgets everything once it holds `limit` (bounded, nothing to keep per hit). */
function boundedMemo(limit: number): (key: string, compute: () => number) => number {
  const memo = new Map<string, number>()
  return (key, compute) => {
    const known = memo.get(key)
    if (known !== undefined) return known
    const at = compute()
    if (memo.size >= limit) memo.clear()
    memo.set(key, at)
    return at
  }
}

// The views compute the same few days for many users of a tenant.
const midnights = boundedMemo(10_000)

/**
 * The first instant of `day` in `timeZone` (00:00 local; where a DST change skips midnight, the
 * first instant that is on that day).
 */
export function startOfLocalDay(day: string, timeZone: string): number {
  return midnights(`${timeZone}|${day}`, () => firstInstantOf(day, timeZone))
}

function firstInstantOf(day: string, timeZone: string): number {
  const asUtc = Date.parse(`${day}T00:00:00Z`)
  // Guess with the offset at the UTC midnight, then correct with the offset at the guess (the two
  // differ when a DST change falls between them).
  let at = asUtc - (wallClockAsUtc(asUtc, timeZone) - asUtc)
  at = asUtc - (wallClockAsUtc(at, timeZone) - at)
  if (!(localDayOf(at, timeZone) === day && localDayOf(at - 1000, timeZone) < day)) {
    // Midnight does not exist that day (a gap): search for the first second of the day.
    let lo = at - 6 * 60 * 60 * 1000 // on the day before
    let hi = at + 6 * 60 * 60 * 1000 // on the day
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000
      if (localDayOf(mid, timeZone) >= day) hi = mid
      else lo = mid
    }
    at = hi
  }
  return at
}

/**
 * The same local wall-clock time `days` calendar days earlier in `timeZone` (DST-aware). The time
 * of day is read off the wall clock, not as time elapsed since midnight: on a day a DST change
 * shortens or lengthens, those differ by the change (11:15 on the day clocks go forward is 10 h 15
 * after midnight). A time the earlier day skips (in its DST gap) lands after the gap.
 */
function localDaysBefore(at: number, days: number, timeZone: string): number {
  // The zone's offset from UTC at an instant (wallClockAsUtc is to the second: so is this).
  const offsetAt = (x: number) => wallClockAsUtc(x, timeZone) - (x - (((x % 1000) + 1000) % 1000))
  const wanted = at + offsetAt(at) - days * DAY_MS // that wall-clock time, `days` days earlier, as if UTC
  // As startOfLocalDay: guess with the offset at `wanted` taken as an instant, correct once.
  return wanted - offsetAt(wanted - offsetAt(wanted))
}

// Bounded memo of the three instants below, by zone and date string. Each decision, next-due time
// and view row asks for them again for the same few thousand dates of a tenant; read and
// computed anew each time they took ~2.8 µs a call even with the midnights memoised (the string
// parsed and printed back), 5–7 % of the processor's CPU in a 20k sync (2026-12-07 profile).
// A company's start and termination dates span a few thousand days, each asked for in up to three
// ways per zone: 30,000 entries (~4 MB at most) hold them without clearing.
const memoised = boundedMemo(30_000)

/** When a start date gives access: 00:00 local on that day (or the exact instant given). */
export function accessBeginsAt(startDate: string, timeZone: string): number {
  return memoised(`b|${timeZone}|${startDate}`, () => {
    const d = readHrDate(startDate)
    if (!d) return Number.NaN
    return d.kind === 'instant' ? d.at : startOfLocalDay(d.day, timeZone)
  })
}

/** When a termination date ends access: after the last day, 00:00 local on the next day (or the exact instant given). */
export function accessEndsAt(terminationDate: string, timeZone: string): number {
  return memoised(`e|${timeZone}|${terminationDate}`, () => {
    const d = readHrDate(terminationDate)
    if (!d) return Number.NaN
    return d.kind === 'instant' ? d.at : startOfLocalDay(addDays(d.day, 1), timeZone)
  })
}

/** When an invite `days` local days before the start date is due: 00:00 local that day (or the same time of day, for an exact instant). */
export function inviteDueAt(startDate: string, days: number, timeZone: string): number {
  return memoised(`i${days}|${timeZone}|${startDate}`, () => {
    const d = readHrDate(startDate)
    if (!d) return Number.NaN
    return d.kind === 'instant' ? localDaysBefore(d.at, days, timeZone) : startOfLocalDay(addDays(d.day, -days), timeZone)
  })
}
