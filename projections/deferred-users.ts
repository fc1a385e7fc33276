// The Learn Amp users a rebuild recomputes once per round, in the batch that writes the carried
// states (carried-states.ts), instead of in every batch that touches their employees.
//
// A rebuild's batch touches most of a company's employees, so every batch recomputed and upserted
// nearly every user, and read back who references them and who shares their addresses: at 1M events
// over 20k employees each user was written ~once per batch. Deferred, a batch only records what the
// live path would recompute — the employees whose state it changed, and the managers, teams and
// locations whose change shows on other users — and the settling batch recomputes those users
// once, from the states as they are then (projection.ts `recomputeUsers`).
//
// Which users: the live path recomputes, per batch, the changed employees and the users the users
// view says reference a changed employee (as manager), team or location. Asked once at the settle
// instead, the users view is as of the previous settle; a user whose references changed since is
// one whose own state changed, so it is in the recorded ids anyway. The union is the same set of
// users, each computed from the same final states.
//
// Bounded like the carried states: every id recorded here is of a state changed since the last
// settle, which is carried (or staged) until that settle writes it, so there are never more ids than
// the carried states' bound (plus one batch's).
//
// Crash consistency: the users are written in the settling batch's transaction, the one that moves
// the checkpoint; between settles the users view is left as the last settle wrote it, and the
// checkpoint behind it. Erasure: the ids of employees erased since are dropped with their carried
// states (the same check, in the batch's transaction), so an erased employee's user is not written
// back, nor are reports recomputed for an erased manager (the erasure itself cleared the name).
import { streamName } from '../schemas/streams.ts'

/** Per tenant, the users to recompute and the ids whose change shows on other users. */
export interface UsersToRecompute {
  employeeIds: Set<string>
  managerIds: Set<string>
  teamIds: Set<string>
  locationIds: Set<string>
}

/** What a batch's fold would recompute, recorded instead (applyEvents' `deferUsers`). */
export type DeferUsers = (tenant: string, users: { employeeIds: Iterable<string>; managerIds: Iterable<string>; teamIds: Iterable<string>; locationIds: Iterable<string> }) => void

const emptyEntry = (): UsersToRecompute => ({ employeeIds: new Set(), managerIds: new Set(), teamIds: new Set(), locationIds: new Set() })

function addTo(into: Map<string, UsersToRecompute>, tenant: string, from: Parameters<DeferUsers>[1]): void {
  let entry = into.get(tenant)
  if (!entry) into.set(tenant, (entry = emptyEntry()))
  for (const id of from.employeeIds) entry.employeeIds.add(id)
  for (const id of from.managerIds) entry.managerIds.add(id)
  for (const id of from.teamIds) entry.teamIds.add(id)
  for (const id of from.locationIds) entry.locationIds.add(id)
}

export class DeferredUsers {
  private readonly pending = new Map<string, UsersToRecompute>()

  /** How many employees' users wait (summed over tenants). */
  get size(): number {
    let n = 0
    for (const entry of this.pending.values()) n += entry.employeeIds.size
    return n
  }

  /**
   * One batch's record. First drops employees erased since: `erasedStreams` are the employee
   * streams the batch's transaction found erased (the carried states' own check).
   */
  stage(erasedStreams: ReadonlySet<string>): StagedUsers {
    if (erasedStreams.size > 0) {
      for (const [tenant, entry] of this.pending) {
        for (const ids of [entry.employeeIds, entry.managerIds]) {
          for (const id of ids) if (erasedStreams.has(streamName('employee', tenant, id))) ids.delete(id)
        }
      }
    }
    return new StagedUsers(this.pending)
  }

  /** Forgets what waits (the runner stopped: the next start resumes from the settled checkpoint). */
  clear(): void {
    this.pending.clear()
  }
}

export class StagedUsers {
  private readonly staged = new Map<string, UsersToRecompute>()
  /** Records a batch's users; they join the waiting ones when the batch commits. */
  readonly defer: DeferUsers = (tenant, users) => addTo(this.staged, tenant, users)

  constructor(private readonly pending: Map<string, UsersToRecompute>) {}

  /** What waits and what this batch recorded, together: what the settling batch recomputes. */
  all(): Map<string, UsersToRecompute> {
    const out = new Map<string, UsersToRecompute>()
    for (const source of [this.pending, this.staged]) for (const [tenant, entry] of source) addTo(out, tenant, entry)
    return out
  }

  /**
   * After the batch's transaction committed: its users wait for the settle, or, `written` (the
   * batch settled and recomputed `all()`), nothing waits any more.
   */
  commit(written: boolean): void {
    if (written) this.pending.clear()
    else for (const [tenant, entry] of this.staged) addTo(this.pending, tenant, entry)
  }
}
