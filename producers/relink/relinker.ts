// Carries out the re-links that were asked for (tenants/lifecycle.ts on a reconnect webhook, or an
// operator), in the poller role, which holds the Kombo client: claims each pending run, re-links
// (relink-integration.ts), then switches the tenant to the new integration with its watermarks
// forgotten — the tenant table's version bump makes the poller role restart that tenant's poller
// on the new integration, with the aliases in place. Runs one at a time; asked again (`kick`)
// while running, it looks once more when done.
import type { TenantStore } from '../../tenants/port.ts'
import type { SyncStateStore } from '../sync-state/port.ts'
import { relinkIntegration, type RelinkDeps } from './relink-integration.ts'
import type { RelinkReport, RelinkRun, SqlRelinkStore } from './relink-store.ts'

export interface RelinkerLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface RelinkerDeps extends Omit<RelinkDeps, 'relinks'> {
  relinks: SqlRelinkStore
  tenants: TenantStore
  syncState: Pick<SyncStateStore, 'forgetWatermarks'>
  logger: RelinkerLogger
  /** After each finished run (metrics). */
  onFinished?: (run: RelinkRun, report: RelinkReport) => void
}

/** A compact summary of a report for the audit trail and the log line (ids of the unmatched stay in the run). */
export function relinkSummary(report: RelinkReport) {
  const employees = report.resources.employees
  return {
    employeesRelinked: report.employeesRelinked,
    matched: Object.fromEntries(Object.entries(report.resources).map(([r, c]) => [r, c.byRemoteId + c.byWorkEmail])),
    unmatchedNew: Object.fromEntries(Object.entries(report.resources).map(([r, c]) => [r, c.unmatched])),
    unmatchedExisting: Object.fromEntries(Object.entries(report.resources).map(([r, c]) => [r, c.existingUnmatched])),
    employeesByRemoteId: employees?.byRemoteId ?? 0,
    employeesByWorkEmail: employees?.byWorkEmail ?? 0,
  }
}

export class Relinker {
  private running: Promise<void> | null = null
  private again = false
  private stopped = false

  constructor(private readonly deps: RelinkerDeps) {}

  /** Looks for pending re-links and runs them; resolves when this look (and any it queued) is done. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve()
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = this.loop().finally(() => {
      this.running = null
    })
    return this.running
  }

  /** No new runs from now on; resolves when the one in progress (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.running?.catch(() => {})
  }

  private async loop(): Promise<void> {
    do {
      this.again = false
      let runs: RelinkRun[] = []
      try {
        runs = await this.deps.relinks.claim()
      } catch (err) {
        this.deps.logger.warn({ err: String(err) }, 're-link: reading pending runs failed; trying again at the next tenant change')
        return
      }
      for (const run of runs) await this.runOne(run)
    } while (this.again && !this.stopped)
  }

  private async runOne(run: RelinkRun): Promise<void> {
    const { tenants, relinks, logger } = this.deps
    const where = { tenant: run.tenant, fromIntegrationId: run.fromIntegrationId, toIntegrationId: run.toIntegrationId }
    try {
      const tenant = await tenants.get(run.tenant)
      if (!tenant || tenant.status === 'offboarded') throw new Error(`tenant ${run.tenant} is ${tenant ? 'offboarded' : 'gone'}`)
      logger.info(where, 're-link started: listing the new integration and matching it to the existing entities')
      const report = await relinkIntegration(this.deps, run)
      await relinks.finish(run.tenant, run.toIntegrationId, report)
      // Before the switch: the new poller's first poll of every resource is then a full listing.
      await this.deps.syncState.forgetWatermarks(run.tenant)
      const summary = relinkSummary(report)
      await tenants.update(
        run.tenant,
        { integrationId: run.toIntegrationId, failingReason: null },
        { actor: run.requestedBy, action: 'tenant.integration-relinked', details: { ...where, ...summary } },
      )
      const unmatched = Object.values(summary.unmatchedNew).reduce((a, b) => a + b, 0) + Object.values(summary.unmatchedExisting).reduce((a, b) => a + b, 0)
      const line = { ...where, ...summary }
      if (unmatched > 0) logger.warn(line, 're-link finished; some records could not be matched (GET /v1/admin/tenants/{id} lists them)')
      else logger.info(line, 're-link finished: every record matched')
      this.deps.onFinished?.(run, report)
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      logger.error({ ...where, err: message }, 're-link failed; the tenant stays on its old integration (ask again with POST /v1/admin/tenants/{id}/relink)')
      await relinks.fail(run.tenant, run.toIntegrationId, message).catch(() => {})
      await tenants
        .update(run.tenant, { failingReason: `re-link to Kombo integration ${run.toIntegrationId} failed: ${message.slice(0, 300)}` }, { actor: 'relinker', action: 'tenant.relink-failed', details: { ...where, error: message.slice(0, 500) } })
        .catch(() => {})
    }
  }
}
