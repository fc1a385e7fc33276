// Tenant settings for tests: a policy, UTC unless said otherwise, no mass-deactivation guard.
import type { InvitePolicy } from '../../schemas/invite-policy.ts'
import { TenantSettings } from '../../schemas/tenant.ts'

export const settingsWith = (invitePolicy: InvitePolicy, timeZone = 'UTC'): TenantSettings =>
  TenantSettings.parse({ invitePolicy, timeZone, massDeactivation: { enabled: false } })
