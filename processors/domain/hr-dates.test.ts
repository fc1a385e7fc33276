// HR dates as calendar days in the tenant's time zone: when access begins and ends, and when an
// invite some local days before the start is due — across zones ahead of and behind UTC and DST.
import t from 'tap'
import { accessBeginsAt, accessEndsAt, inviteDueAt, localDayOf, readHrDate, startOfLocalDay } from './hr-dates.ts'
import { TimeZone } from '../../schemas/tenant.ts'

const isValidTimeZone = (zone: string) => TimeZone.safeParse(zone).success

const at = (iso: string) => Date.parse(iso)
const iso = (ms: number) => new Date(ms).toISOString()
/** Still employed at `now` when the termination date is `term`? */
const stillEmployed = (term: string, tz: string, now: string) => at(now) < accessEndsAt(term, tz)

t.test('a calendar day is read from Kombo midnight UTC or a plain date; a real time of day is an instant', async (t) => {
  t.same(readHrDate('2026-12-01T00:00:00.000Z'), { kind: 'day', day: '2026-12-01' })
  t.same(readHrDate('2026-12-01T00:00:00Z'), { kind: 'day', day: '2026-12-01' })
  t.same(readHrDate('2026-12-01'), { kind: 'day', day: '2026-12-01' })
  t.same(readHrDate('2026-12-01T15:30:00.000Z'), { kind: 'instant', at: at('2026-12-01T15:30:00.000Z') })
  t.same(readHrDate('2026-12-01T00:00:00+01:00'), { kind: 'instant', at: at('2026-11-30T23:00:00.000Z') }, 'midnight elsewhere is not midnight UTC')
  t.equal(readHrDate('not a date'), null)
  t.equal(readHrDate('2026-13-45'), null)
})

t.test('last day today in Europe/Berlin: employed through the local day, out at local midnight', async (t) => {
  const term = '2026-12-01T00:00:00.000Z' // Kombo's way of saying "1 December"
  t.equal(stillEmployed(term, 'Europe/Berlin', '2026-12-01T00:00:00.000Z'), true, '01:00 local on the last day')
  t.equal(stillEmployed(term, 'Europe/Berlin', '2026-12-01T12:00:00.000Z'), true, 'midday')
  t.equal(stillEmployed(term, 'Europe/Berlin', '2026-12-01T22:59:59.999Z'), true, '23:59:59.999 local')
  t.equal(stillEmployed(term, 'Europe/Berlin', '2026-12-01T23:00:00.000Z'), false, '00:00 local on 2 December')
  t.equal(iso(accessEndsAt(term, 'Europe/Berlin')), '2026-12-01T23:00:00.000Z')
})

t.test('last day today in Pacific/Auckland (UTC+13 in December): the local day ends before it does in UTC', async (t) => {
  const term = '2026-12-01'
  t.equal(stillEmployed(term, 'Pacific/Auckland', '2026-11-30T11:00:00.000Z'), true, '00:00 local on the last day')
  t.equal(stillEmployed(term, 'Pacific/Auckland', '2026-12-01T00:00:00.000Z'), true, '13:00 local')
  t.equal(stillEmployed(term, 'Pacific/Auckland', '2026-12-01T10:59:59.999Z'), true, '23:59:59.999 local')
  t.equal(stillEmployed(term, 'Pacific/Auckland', '2026-12-01T11:00:00.000Z'), false, '00:00 local on 2 December')
  t.equal(stillEmployed(term, 'Pacific/Auckland', '2026-12-01T20:00:00.000Z'), false)
  t.equal(iso(accessBeginsAt('2026-12-01T00:00:00.000Z', 'Pacific/Auckland')), '2026-11-30T11:00:00.000Z', 'a start on 1 December begins the day before in UTC')
})

t.test('UTC tenants: the termination date is still the last day (out at 00:00 UTC the day after)', async (t) => {
  t.equal(iso(accessEndsAt('2026-12-01T00:00:00.000Z', 'UTC')), '2026-12-02T00:00:00.000Z')
  t.equal(iso(accessBeginsAt('2026-12-01T00:00:00.000Z', 'UTC')), '2026-12-01T00:00:00.000Z')
})

t.test('a date with a real time of day keeps its instant, whatever the zone', async (t) => {
  t.equal(iso(accessEndsAt('2026-12-01T15:30:00.000Z', 'Pacific/Auckland')), '2026-12-01T15:30:00.000Z')
  t.equal(iso(accessBeginsAt('2026-12-01T15:30:00.000Z', 'Europe/Berlin')), '2026-12-01T15:30:00.000Z')
})

t.test('a DST weekend in Europe/Berlin: each local day begins at its own offset', async (t) => {
  // Spring forward on Sunday 29 March 2026 (02:00 CET -> 03:00 CEST): a 23-hour day.
  t.equal(iso(startOfLocalDay('2026-03-29', 'Europe/Berlin')), '2026-03-28T23:00:00.000Z', 'Sunday begins in CET')
  t.equal(iso(startOfLocalDay('2026-03-30', 'Europe/Berlin')), '2026-03-29T22:00:00.000Z', 'Monday begins in CEST')
  t.equal(iso(accessEndsAt('2026-03-28', 'Europe/Berlin')), '2026-03-28T23:00:00.000Z', 'last day Saturday')
  t.equal(iso(accessEndsAt('2026-03-29', 'Europe/Berlin')), '2026-03-29T22:00:00.000Z', 'last day Sunday, 23 hours long')
  // Fall back on Sunday 25 October 2026 (03:00 CEST -> 02:00 CET): a 25-hour day.
  t.equal(iso(accessEndsAt('2026-10-25', 'Europe/Berlin')), '2026-10-25T23:00:00.000Z')
  t.equal(accessEndsAt('2026-10-25', 'Europe/Berlin') - startOfLocalDay('2026-10-25', 'Europe/Berlin'), 25 * 3600_000)
  // Auckland's own spring forward (Sunday 27 September 2026): midnight before is still NZST (+12).
  t.equal(iso(startOfLocalDay('2026-09-27', 'Pacific/Auckland')), '2026-09-26T12:00:00.000Z')
  t.equal(iso(startOfLocalDay('2026-09-28', 'Pacific/Auckland')), '2026-09-27T11:00:00.000Z')
})

t.test('a day whose midnight is skipped by DST begins at its first instant', async (t) => {
  // America/Santiago springs forward at 24:00 on Saturday 5 September 2026: 6 September has no 00:00.
  const begins = startOfLocalDay('2026-09-06', 'America/Santiago')
  t.equal(iso(begins), '2026-09-06T04:00:00.000Z', '01:00 -03')
  t.equal(localDayOf(begins, 'America/Santiago'), '2026-09-06')
  t.equal(localDayOf(begins - 1000, 'America/Santiago'), '2026-09-05')
})

t.test('an invite for a start with a time of day keeps its wall-clock time, also when either day is a DST change', async (t) => {
  // Berlin goes from CET (+1) to CEST (+2) at 01:00 UTC on 29 March 2026, and back on 25 October.
  t.equal(iso(inviteDueAt('2026-03-29T09:15:00.000Z', 1, 'Europe/Berlin')), '2026-03-28T10:15:00.000Z', '11:15 CEST on the change day -> 11:15 CET the day before')
  t.equal(iso(inviteDueAt('2026-03-30T09:15:00.000Z', 1, 'Europe/Berlin')), '2026-03-29T09:15:00.000Z', '11:15 CEST -> 11:15 CEST on the change day')
  t.equal(iso(inviteDueAt('2026-04-05T09:15:30.250Z', 14, 'Europe/Berlin')), '2026-03-22T10:15:30.250Z', 'two weeks across the change, to the millisecond')
  t.equal(iso(inviteDueAt('2026-10-26T10:15:00.000Z', 1, 'Europe/Berlin')), '2026-10-25T10:15:00.000Z', '11:15 CET -> 11:15 CET on the day clocks go back')
  t.equal(iso(inviteDueAt('2026-03-30T00:30:00.000Z', 1, 'Europe/Berlin')), '2026-03-29T01:30:00.000Z', '02:30 local does not exist on 29 March: after the gap, 03:30 CEST')
  t.equal(iso(inviteDueAt('2026-12-03T08:00:00.000Z', 2, 'Pacific/Auckland')), '2026-12-01T08:00:00.000Z', 'no change between: the same instant of day')
})

t.test('daysBefore counts local days, across a DST change', async (t) => {
  // A week before Wednesday 1 April 2026 (CEST) is Wednesday 25 March (still CET): 00:00 local.
  t.equal(iso(inviteDueAt('2026-04-01', 7, 'Europe/Berlin')), '2026-03-24T23:00:00.000Z')
  t.equal(localDayOf(inviteDueAt('2026-04-01', 7, 'Europe/Berlin'), 'Europe/Berlin'), '2026-03-25')
  t.equal(iso(inviteDueAt('2026-04-01', 0, 'Europe/Berlin')), '2026-03-31T22:00:00.000Z', 'on the day: local midnight')
  // Across Auckland's autumn change (Sunday 5 April 2026, +13 -> +12).
  t.equal(iso(inviteDueAt('2026-04-08', 7, 'Pacific/Auckland')), '2026-03-31T11:00:00.000Z')
  // An exact start instant: the same local time of day, 7 local days earlier (11:00 CEST -> 11:00 CET).
  t.equal(iso(inviteDueAt('2026-04-01T09:00:00.000Z', 7, 'Europe/Berlin')), '2026-03-25T10:00:00.000Z')
})

t.test('time zone names are checked against the platform', async (t) => {
  t.equal(isValidTimeZone('Europe/Berlin'), true)
  t.equal(isValidTimeZone('UTC'), true)
  t.equal(isValidTimeZone('Mars/Olympus_Mons'), false)
})

t.test('the instants are memoised: the same on a second call, and past the memo bound (6,000 dates × 2 zones × 3 instants)', async (t) => {
  const zones = ['Europe/Berlin', 'America/New_York']
  const dates = Array.from({ length: 6_000 }, (_, i) => new Date(Date.UTC(2010, 0, 1) + i * 86_400_000).toISOString())
  const expected = (date: string, zone: string) => {
    const day = date.slice(0, 10)
    const next = new Date(Date.parse(date) + 86_400_000).toISOString().slice(0, 10)
    const before = new Date(Date.parse(date) - 14 * 86_400_000).toISOString().slice(0, 10)
    return [startOfLocalDay(day, zone), startOfLocalDay(next, zone), startOfLocalDay(before, zone)]
  }
  for (const round of [1, 2]) {
    let wrong = 0
    for (const zone of zones)
      for (const date of dates) {
        const got = [accessBeginsAt(date, zone), accessEndsAt(date, zone), inviteDueAt(date, 14, zone)]
        if (got.join() !== expected(date, zone).join()) wrong += 1
      }
    t.equal(wrong, 0, `round ${round}: every date's instants as computed from its local midnights`)
  }
  t.equal(iso(inviteDueAt('2026-06-30T09:15:00.000Z', 1, 'Europe/Berlin')), '2026-06-29T09:15:00.000Z', 'an instant: the same time a day earlier, memoised apart from the days')
  t.equal(iso(inviteDueAt('2026-06-30T09:15:00.000Z', 2, 'Europe/Berlin')), '2026-06-28T09:15:00.000Z')
  t.ok(Number.isNaN(accessBeginsAt('not a date', 'UTC')) && Number.isNaN(accessBeginsAt('not a date', 'UTC')), 'not a date: NaN, also from the memo')
})
