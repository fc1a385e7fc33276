// Kombo's `changed_at` is what incremental readers page on, so within one integration every
// mutation must get a strictly later instant than the previous one, even if the wall clock
// stands still (tests freeze it) or two changes land in the same millisecond.

export class ChangeClock {
  private last: number

  constructor(
    private readonly now: () => Date,
    startAfter = Number.NEGATIVE_INFINITY,
  ) {
    this.last = startAfter
  }

  /** The next change instant: max(now, last + 1ms), as an ISO string with milliseconds and `Z`. */
  tick(): string {
    this.last = Math.max(this.now().getTime(), this.last + 1)
    return new Date(this.last).toISOString()
  }

  /** Never hand out an instant at or before one already used by seeded data. */
  advancePast(instant: string): void {
    this.last = Math.max(this.last, Date.parse(instant))
  }
}
