// The GDPR erasure audit record: who erased which employee, when and why — and no personal data.
// Kept in the tenant's `erasure-{tenant}` stream (outside the projected categories).
import { z } from 'zod'

export const EmployeePersonalDataErased = z.object({
  type: z.literal('EmployeePersonalDataErased'),
  data: z.object({
    tenant: z.string(),
    employeeId: z.string(),
    reason: z.string().min(1).max(500),
    actor: z.string().min(1).max(200),
    erasedAt: z.iso.datetime(),
  }),
})
export type EmployeePersonalDataErased = z.infer<typeof EmployeePersonalDataErased>

export const erasureStreamName = (tenant: string) => `erasure-${tenant}`
