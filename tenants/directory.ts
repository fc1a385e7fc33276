// The roles' view of the tenant table: a cached copy, refreshed when the store's version number
// moves (polled every ~1 s, so roles in other processes on PostgreSQL follow a change within
// seconds), with callbacks for the roles that must act on a change (start or stop a poller,
// re-decide invites). Reads are synchronous: the processor and the API ask per record / request.
import type { InvitePolicy } from '../schemas/invite-policy.ts'
import type { Tenant, TenantSettings } from '../schemas/tenant.ts'
import type { StoredToken, TenantStore } from './port.ts'

export const DEFAULT_DIRECTORY_REFRESH_MS = 1000

/** One tenant that changed in a refresh: `before` undefined when new. Tenants are never deleted. */
export interface TenantChangeSeen {
  before: Tenant | undefined
  after: Tenant
}

export type DirectoryListener = (changes: TenantChangeSeen[]) => void | Promise<void>

export interface TenantDirectoryOptions {
  refreshMs?: number
  onError?: (err: Error) => void
}

export class TenantDirectory {
  private tenants = new Map<string, Tenant>()
  private tokenList: StoredToken[] = []
  private seenVersion = -1n
  private readonly listeners = new Set<DirectoryListener>()
  private timer: NodeJS.Timeout | null = null
  private refreshing: Promise<void> | null = null
  private again = false

  private constructor(
    private readonly store: TenantStore,
    private readonly options: TenantDirectoryOptions,
  ) {}

  /** Loads the table once; `start()` then keeps following it. */
  static async open(store: TenantStore, options: TenantDirectoryOptions = {}): Promise<TenantDirectory> {
    const directory = new TenantDirectory(store, options)
    await directory.refresh()
    return directory
  }

  /** Follows the table: a version check every refreshMs. */
  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => {
      this.refresh().catch((err: Error) => this.options.onError?.(err))
    }, this.options.refreshMs ?? DEFAULT_DIRECTORY_REFRESH_MS)
    this.timer.unref?.()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.refreshing?.catch(() => {})
  }

  /**
   * Reloads when the version moved and tells the listeners what changed. Writers in this process
   * call it after their write, so a change is followed here at once, not a poll later. Calls that
   * overlap share one reload, and a call during a reload causes one more afterwards.
   */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true
      return this.refreshing
    }
    this.refreshing = (async () => {
      try {
        do {
          this.again = false
          await this.reloadIfChanged()
        } while (this.again)
      } finally {
        this.refreshing = null
      }
    })()
    return this.refreshing
  }

  private async reloadIfChanged(): Promise<void> {
    const version = await this.store.version()
    if (version === this.seenVersion) return
    // Version first: a write landing while we load moves it again, so the next check reloads.
    const [tenants, tokens] = await Promise.all([this.store.list(), this.store.tokens()])
    const changes: TenantChangeSeen[] = []
    for (const after of tenants) {
      const before = this.tenants.get(after.id)
      if (!before || JSON.stringify(before) !== JSON.stringify(after)) changes.push({ before, after })
    }
    this.tenants = new Map(tenants.map((t) => [t.id, t]))
    this.tokenList = tokens
    this.seenVersion = version
    if (changes.length === 0) return
    for (const listener of this.listeners) {
      try {
        await listener(changes)
      } catch (err) {
        this.options.onError?.(err as Error)
      }
    }
  }

  /** Called after every refresh that changed a tenant. Returns the unsubscribe function. */
  subscribe(listener: DirectoryListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  get version(): bigint {
    return this.seenVersion
  }

  get(id: string): Tenant | undefined {
    return this.tenants.get(id)
  }

  list(): Tenant[] {
    return [...this.tenants.values()]
  }

  /** The tenant (not offboarded) bound to the integration. */
  byIntegration(integrationId: string): Tenant | undefined {
    return this.list().find((t) => t.integrationId === integrationId && t.status !== 'offboarded')
  }

  /** Token hashes of the tenants that are not offboarded. */
  tokens(): StoredToken[] {
    return this.tokenList
  }

  settingsOf(tenant: string): TenantSettings | undefined {
    return this.tenants.get(tenant)?.settings
  }

  /**
   * The invite policy the processor and the clock decide with. An offboarded tenant keeps its
   * policy: records polled before the offboarding are still folded into its history.
   */
  invitePolicyOf(tenant: string): InvitePolicy | undefined {
    return this.tenants.get(tenant)?.settings.invitePolicy
  }
}
