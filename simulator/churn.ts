// Background churn: keeps the seeded companies changing so a running sync has work to do.

export class Churn {
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly onTick: () => void) {}

  /** `ratePerSecond` changes per second (per seeded integration); 0 stops. */
  start(ratePerSecond: number): void {
    if (!Number.isFinite(ratePerSecond) || ratePerSecond < 0) throw new RangeError(`ratePerSecond must be >= 0, got ${ratePerSecond}`)
    this.stop()
    if (ratePerSecond === 0) return
    this.timer = setInterval(this.onTick, Math.max(1, Math.round(1000 / ratePerSecond)))
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  get running(): boolean {
    return this.timer !== undefined
  }
}
