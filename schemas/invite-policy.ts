// When a tenant's Learn Amp users are invited: never automatically, as soon as they are known, or
// a number of days before their start date.
import { z } from 'zod'

export const InvitePolicy = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('manual') }),
  z.object({ mode: z.literal('immediate') }),
  z.object({ mode: z.literal('on_start_date'), daysBefore: z.number().int().min(0).default(0) }),
])
export type InvitePolicy = z.infer<typeof InvitePolicy>
