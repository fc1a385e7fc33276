// Request parameter schemas shared by the tenant routes. Query objects are strict: a misspelt
// parameter (`?stauts=`) is a 400 naming it, not a silently ignored filter.
import { z } from 'zod'
import { LearnAmpUserIssue } from '../../schemas/learnamp.ts'

export const TenantParams = z.object({ tenant: z.string().min(1).max(64) }).strict()
export const EntityParams = z.object({ tenant: z.string().min(1).max(64), id: z.string().min(1).max(200) }).strict()

const pageFields = {
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('page size, 1 to 200'),
  cursor: z.string().min(1).max(2000).optional().describe('the `next` value of the previous page'),
}
export const PageQuery = z.object(pageFields).strict()

export const UserListQuery = z
  .object({
    status: z.enum(['pending', 'active', 'deactivated']).optional(),
    team: z.string().min(1).max(200).optional().describe('team id'),
    location: z.string().min(1).max(200).optional().describe('location id'),
    q: z.string().min(1).max(200).optional().describe('case-insensitive text in name, email or job title'),
    issue: LearnAmpUserIssue.optional().describe('only users with this data problem (e.g. duplicate_work_email, manager_not_found)'),
    ...pageFields,
  })
  .strict()

export const UserQueryString = z
  .object({
    asOf: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('ISO 8601 date-time: return the user as the event store knew it then'),
  })
  .strict()

export const InviteBody = z
  .object({ actor: z.string().min(1).max(200).optional().describe('who asked for the invite, for the audit trail') })
  .strict()
  .nullable()

export const tenantSecurity = [{ tenantToken: [] }]
