// What a change of invite policy would do, answered by the same decision the clock takes: each
// employee's folded state decided under the new policy at `now`. Pure; the dry run of
// PATCH /v1/admin/tenants/{id} feeds it the tenant's states from the views.
import { decideEmployeeClockEvents, type EmployeeState } from '../processors/domain/employee.ts'
import type { InvitePolicy } from '../schemas/invite-policy.ts'

export interface InviteImpact {
  /** Users the new policy invites at once. */
  wouldInvite: number
  /** Users the new policy schedules for a later invite. */
  wouldSchedule: number
  /** Users already invited: a policy change never un-invites anybody. */
  alreadyInvited: number
}

/** `timeZone`: the tenant's (new) zone, in which the start dates and `daysBefore` are counted. */
export function inviteImpact(tenant: string, states: EmployeeState[], policy: InvitePolicy, now: Date, timeZone: string): InviteImpact {
  const impact: InviteImpact = { wouldInvite: 0, wouldSchedule: 0, alreadyInvited: 0 }
  for (const state of states) {
    if (state.invite.status === 'invited') {
      impact.alreadyInvited++
      continue
    }
    const decided = decideEmployeeClockEvents(state, { tenant, now, invitePolicy: policy, timeZone })
    if (decided.some((e) => e.type === 'UserInvited')) impact.wouldInvite++
    else if (decided.some((e) => e.type === 'UserInviteScheduled')) impact.wouldSchedule++
  }
  return impact
}
