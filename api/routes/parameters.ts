// Request parameter schemas shared by the tenant routes. Query objects are strict: a misspelt
// parameter (`?stauts=`) is a 400 naming it, not a silently ignored filter. Every free-text input
// is `text()`: PostgreSQL cannot store or compare a NUL byte or a lone UTF-16 surrogate (it fails
// the statement, which would be a 500), so such input is a 400 naming the parameter instead.
import { z } from 'zod'
import { ENTITY_ID_MAX_LENGTH } from '../../schemas/kombo.ts'
import { isStorableText, STORABLE_TEXT_PROBLEM } from '../../schemas/storable-text.ts'
import { LearnAmpUserIssue } from '../../schemas/learnamp.ts'
import { changeLogEntryTypes, changeFields } from '../../schemas/audit.ts'

export { isStorableText, STORABLE_TEXT_PROBLEM }

/** A non-empty string of at most `max` characters that PostgreSQL can store. */
export const text = (max: number) => z.string().min(1).max(max).refine(isStorableText, { message: STORABLE_TEXT_PROBLEM })

/** Entity ids: the same limit as the Kombo record schema's `id`, so whatever syncs can be fetched. */
export const EntityId = text(ENTITY_ID_MAX_LENGTH)
export const TenantId = text(64)

export const TenantParams = z.object({ tenant: TenantId }).strict()
export const EntityParams = z.object({ tenant: TenantId, id: EntityId }).strict()

const pageFields = {
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('page size, 1 to 200'),
  cursor: text(2000).optional().describe('the `next` value of the previous page'),
}
export const PageQuery = z.object(pageFields).strict()

export const UserListQuery = z
  .object({
    status: z.enum(['pending', 'active', 'deactivated']).optional(),
    team: EntityId.optional().describe('team id'),
    location: EntityId.optional().describe('location id'),
    q: text(200).optional().describe('case-insensitive text in name, email or job title'),
    issue: LearnAmpUserIssue.optional().describe('only users with this data problem (e.g. duplicate_work_email, manager_not_found)'),
    ...pageFields,
  })
  .strict()

const instant = (what: string) =>
  z.iso
    .datetime({ offset: true })
    .optional()
    .describe(`ISO 8601 date-time with offset: ${what}`)

/** The two time axes of a read of the past (docs/api.md, "Two time axes"). */
export const temporalFields = {
  asOf: instant('HR time — the state the HR records describe as in effect at this instant'),
  knownAt: instant('recorded time — what kombo-sync knew at this instant (default: now)'),
}
export const TemporalQuery = z.object(temporalFields).strict()
export const ChangeLogQuery = z
  .object({
    from: instant('from this instant on (inclusive), on the chosen axis'),
    to: instant('before this instant (exclusive), on the chosen axis'),
    axis: z.enum(['hr', 'recorded']).default('hr').describe('which time from, to and the order refer to: HR time (default) or recorded time'),
    type: z.enum(changeLogEntryTypes).optional().describe('only entries of this type'),
    userId: EntityId.optional().describe('only this user (Kombo employee id)'),
    field: z.enum(changeFields).optional().describe('only entries that change this Learn Amp user field'),
    ...pageFields,
  })
  .strict()
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: 'must be after from', path: ['to'] })

export const InviteBody = z
  .object({ actor: text(200).optional().describe('who asked for the invite, for the audit trail') })
  .strict()
  .nullable()

export const tenantSecurity = [{ tenantToken: [] }]
