// The poller role's set of TenantPollers, kept in step with the tenant table: a tenant that is
// active and bound to an integration is polled; a paused, offboarded or unbound one is not. A
// changed integration or poll interval restarts that tenant's poller, and so does any change to a
// tenant whose poller stopped by itself (e.g. Kombo reported the integration ACTIVE again).
import type { Tenant } from '../schemas/tenant.ts'
import type { TenantPoller } from './tenant-poller.ts'

export interface TenantPollersOptions {
  /** Builds (does not start) the poller of one tenant. */
  create: (tenant: Tenant) => TenantPoller
  onStarted?: (tenant: Tenant) => void
  onStopped?: (tenant: string, why: string) => void
}

const shouldPoll = (t: Tenant) => t.status === 'active' && t.integrationId !== null

export class TenantPollers {
  /** The running (or self-stopped) pollers by tenant id; the same Map for the life of the role. */
  readonly pollers = new Map<string, TenantPoller>()
  private readonly polledAs = new Map<string, Tenant>()
  private queue: Promise<void> = Promise.resolve()

  constructor(private readonly options: TenantPollersOptions) {}

  /** Starts, restarts and stops pollers so that exactly the tenants that should be polled are. Serialised. */
  reconcile(tenants: Tenant[]): Promise<void> {
    const run = this.queue.then(() => this.apply(tenants))
    this.queue = run.catch(() => {})
    return run
  }

  private async apply(tenants: Tenant[]): Promise<void> {
    const wanted = new Map(tenants.filter(shouldPoll).map((t) => [t.id, t]))
    for (const [id, poller] of [...this.pollers]) {
      const next = wanted.get(id)
      const before = this.polledAs.get(id)!
      const restart =
        next !== undefined &&
        (next.integrationId !== before.integrationId ||
          next.settings.pollIntervalMs !== before.settings.pollIntervalMs ||
          // The scopes are baked into the poller (its minimising client and its resources).
          !sameMembers(next.settings.optionalFields, before.settings.optionalFields) ||
          !sameMembers(next.settings.optionalResources, before.settings.optionalResources) ||
          (poller.status === 'failed' && JSON.stringify(next) !== JSON.stringify(before)))
      if (next && !restart) {
        this.polledAs.set(id, next)
        continue
      }
      await poller.stop()
      this.pollers.delete(id)
      this.polledAs.delete(id)
      this.options.onStopped?.(id, next ? 'settings changed' : (tenants.find((t) => t.id === id)?.status ?? 'removed'))
    }
    for (const [id, tenant] of wanted) {
      if (this.pollers.has(id)) continue
      const poller = this.options.create(tenant)
      this.pollers.set(id, poller)
      this.polledAs.set(id, tenant)
      poller.start()
      this.options.onStarted?.(tenant)
    }
  }

  async stop(): Promise<void> {
    await this.queue
    for (const poller of this.pollers.values()) await poller.stop()
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x))
}
