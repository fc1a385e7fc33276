// The downstream feed `learnamp.user-events.v1`: one event per change of a Learn Amp user that
// another service may act on. Zod is the single source of truth; the registry schema is generated
// from it (userFeedJsonSchema) and registered under `<topic>-value` with BACKWARD compatibility.
//
// Published events keep their meaning forever: a new kind of change is a new `type`, a new field
// is optional. See docs/user-events-feed.md for consumers.
import { z } from 'zod'
import { isoDateTime } from './kombo.ts'
import { LearnAmpUser } from './learnamp.ts'
import type { JsonSchemaDocument } from './registry.ts'

const nullableString = z.string().nullable()

export const userFeedEventTypes = [
  'UserCreated',
  'UserUpdated',
  'UserInviteDue',
  'UserInvited',
  'UserDeactivated',
  'UserReactivated',
  'UserDeleted',
  'UserRestored',
] as const
export const UserFeedEventType = z.enum(userFeedEventTypes)
export type UserFeedEventType = z.infer<typeof UserFeedEventType>

/**
 * The user as the HR system describes it, from the employee's own record: references (manager,
 * teams, location) are Kombo ids plus the names the record carries, not resolved through other
 * entities, so an event never depends on the order other streams were read in.
 */
export const UserFeedSnapshot = LearnAmpUser.pick({
  externalId: true,
  remoteId: true,
  employeeNumber: true,
  firstName: true,
  lastName: true,
  displayName: true,
  jobTitle: true,
  email: true,
  hireDate: true,
  leaveDate: true,
  avatar: true,
  legalEntityId: true,
  employmentType: true,
}).extend({
  managerExternalId: nullableString,
  teams: z.array(z.object({ externalId: z.string(), name: nullableString, type: nullableString })),
  locationExternalId: nullableString,
})
export type UserFeedSnapshot = z.infer<typeof UserFeedSnapshot>

/** Snapshot fields a consumer can ask for in `changedFields`. */
export type UserFeedField = keyof UserFeedSnapshot

export const UserFeedEvent = z.object({
  eventId: z.uuid().describe('Deterministic (UUID v5 of the source event id and the type): dedupe on it'),
  type: UserFeedEventType,
  tenant: z.string().min(1),
  userId: z.string().min(1).describe('Kombo employee id = Learn Amp external id'),
  occurredAt: isoDateTime.describe('When it happened: the HR change time, or the instant a date was reached'),
  sourceEventId: z.string().describe('The event-store event this was derived from'),
  sourcePosition: z.string().describe('Global event-store position (decimal), increasing per user'),
  /** The user after the change (absent on nothing). */
  user: UserFeedSnapshot.optional(),
  /** UserUpdated: which snapshot fields changed. */
  changedFields: z.array(z.string()).optional(),
  /** UserInviteDue: when the invite is due. */
  dueAt: isoDateTime.optional(),
  /** UserInvited: by the tenant's policy or by a person. */
  invitedBy: z.enum(['policy', 'manual']).optional(),
  /** UserDeactivated / UserReactivated: why. */
  reason: z.string().optional(),
})
export type UserFeedEvent = z.infer<typeof UserFeedEvent>

/** The feed's topic (with the environment prefix). */
export const userFeedTopic = (prefix = ''): string => `${prefix}learnamp.user-events.v1`

/** The feed's key: per-user order (one user's events share a partition). */
export const userFeedKey = (tenant: string, userId: string): string => `${tenant}:${userId}`

/**
 * The JSON Schema (draft-07) registered for the feed's values. `format` keywords are left out:
 * the registry client's Ajv refuses unknown formats by default, so a consumer with a plain
 * `new SchemaRegistry({ host })` could not decode; the patterns zod emits beside them still check
 * uuids and date-times.
 */
export function userFeedJsonSchema(): JsonSchemaDocument {
  const schema = withoutFormats(z.toJSONSchema(UserFeedEvent, { target: 'draft-07' })) as JsonSchemaDocument
  return { ...schema, title: 'learnamp.user-events.v1' }
}

function withoutFormats(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutFormats)
  if (node === null || typeof node !== 'object') return node
  return Object.fromEntries(Object.entries(node).filter(([k]) => k !== 'format').map(([k, v]) => [k, withoutFormats(v)]))
}
