// Scripted misbehaviour, so clients can be tested against the failures a real API shows:
// rate limits, outages, slowness, broken bodies and records that break the schema.
import type { KomboResource } from '../schemas/kombo.ts'

export type SimulatorFault = { integrationId?: string; resource?: KomboResource; times?: number } & (
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'truncated' }
  | { kind: 'not-json' }
  | { kind: 'invalid-record'; patch: Record<string, unknown> }
  /** The page's first record replaced by this JSON text, as given (poison: NUL escapes, lone surrogates, nesting 8,000 deep). */
  | { kind: 'raw-record'; json: string }
  /** A valid page padded with whitespace to `bytes` (a huge response). */
  | { kind: 'oversized'; bytes: number }
  /** A valid page padded to `bytes`, sent gzip-compressed (small on the wire, huge inflated). */
  | { kind: 'gzip-bomb'; bytes: number }
  /** The page without its first record (a change Kombo did not list that time, e.g. written late). */
  | { kind: 'omit-record' }
  /** An empty page whose `next` is always the same cursor (the pages loop). */
  | { kind: 'looping-cursor' }
  /** An empty page with a new `next` each time (pages that never end). */
  | { kind: 'endless-pages' }
)

/** Faults wait in injection order; each applies to the next `times` matching list requests. */
export class FaultQueue {
  private pending: Array<{ fault: SimulatorFault; remaining: number }> = []

  inject(fault: SimulatorFault): void {
    const times = fault.times ?? 1
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`fault.times must be a positive integer, got ${times}`)
    this.pending.push({ fault, remaining: times })
  }

  clear(): void {
    this.pending = []
  }

  /** The fault for this request, if any, counting it as used. */
  take(integrationId: string, resource: KomboResource): SimulatorFault | undefined {
    const entry = this.pending.find(
      (p) => (p.fault.integrationId === undefined || p.fault.integrationId === integrationId) && (p.fault.resource === undefined || p.fault.resource === resource),
    )
    if (!entry) return undefined
    entry.remaining -= 1
    if (entry.remaining === 0) this.pending = this.pending.filter((p) => p !== entry)
    return entry.fault
  }

  get size(): number {
    return this.pending.length
  }
}

/** Kombo error codes for the statuses a fault can produce (docs.kombo.dev/guides/errors). */
export function errorForStatus(status: number): { code: string | null; title: string; message: string } {
  switch (status) {
    case 400:
      return { code: 'PLATFORM.INPUT_INVALID', title: 'The input is invalid.', message: 'Simulated invalid input.' }
    case 401:
      return { code: 'PLATFORM.AUTHENTICATION_INVALID', title: 'The API key is invalid.', message: 'Simulated authentication failure.' }
    case 403:
      return { code: 'PLATFORM.INSUFFICIENT_PERMISSIONS', title: 'Missing permissions.', message: 'Simulated missing scope.' }
    case 404:
      return { code: 'PLATFORM.INTEGRATION_NOT_FOUND', title: 'The integration was not found.', message: 'Simulated unknown integration.' }
    case 409:
      return { code: 'INTEGRATION.SETUP_SYNC_PENDING', title: 'The initial sync is still running.', message: 'Simulated pending setup sync.' }
    case 429:
      return { code: 'PLATFORM.RATE_LIMIT_EXCEEDED', title: 'Rate limit exceeded.', message: 'Simulated rate limit; slow down.' }
    case 503:
      return { code: 'REMOTE.SERVICE_UNAVAILABLE', title: 'The remote system is unavailable.', message: 'Simulated outage.' }
    default:
      return { code: 'PLATFORM.UNKNOWN_ERROR', title: 'An unexpected error occurred.', message: `Simulated HTTP ${status}.` }
  }
}
