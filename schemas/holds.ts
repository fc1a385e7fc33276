// Mass-deactivation holds (issue 15): a round of deactivations the guard did not apply because it
// would deactivate more of a tenant's active users than its threshold allows, waiting for an
// operator to release (apply) or discard it. Served by GET /v1/tenants/{t}/holds.
import { z } from 'zod'

export const HoldStatus = z.enum(['open', 'released', 'discarded'])
export type HoldStatus = z.infer<typeof HoldStatus>

export const Hold = z.object({
  id: z.string().describe('the hold id, used by …/holds/{id}/release and …/discard'),
  status: HoldStatus,
  users: z.array(z.string()).describe('Kombo employee ids (= Learn Amp external ids) whose deactivation is held'),
  reason: z.string().describe('why the round was held: how many of how many active users, and the threshold'),
  createdAt: z.string(),
  decidedAt: z.string().nullable().describe('when it was released or discarded'),
  decidedBy: z.string().nullable().describe('the actor who released or discarded it'),
})
export type Hold = z.infer<typeof Hold>

/** Who decides on a hold: required, kept in the streams' events and the hold. */
export const HoldDecisionBody = z
  .object({ actor: z.string().trim().min(1).max(200).describe('who releases or discards the hold, for the audit') })
  .strict()
