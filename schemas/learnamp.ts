// Learn Amp directory payloads as kombo-sync serves and sends them: users, teams, locations.
import { z } from 'zod'

const nullableString = z.string().nullable()

export const LearnAmpUserStatus = z.enum(['pending', 'active', 'deactivated'])
export type LearnAmpUserStatus = z.infer<typeof LearnAmpUserStatus>

/** Data problems shown to the customer; reported, never repaired by guessing. */
export const LearnAmpUserIssue = z.enum([
  'missing_work_email',
  'duplicate_work_email',
  'manager_not_found',
  'location_not_found',
  'team_not_found',
])
export type LearnAmpUserIssue = z.infer<typeof LearnAmpUserIssue>

export const LearnAmpTeamRef = z.object({
  externalId: z.string(),
  name: nullableString,
  type: z.enum(['DEPARTMENT', 'TEAM', 'COST_CENTER']).nullable(),
})
export type LearnAmpTeamRef = z.infer<typeof LearnAmpTeamRef>

export const LearnAmpUser = z.object({
  externalId: z.string().describe('Kombo employee id'),
  remoteId: nullableString,
  employeeNumber: nullableString,
  firstName: nullableString,
  lastName: nullableString,
  displayName: nullableString,
  jobTitle: nullableString,
  email: nullableString,
  hireDate: nullableString,
  leaveDate: nullableString,
  manager: z.object({ externalId: z.string(), displayName: nullableString }).nullable(),
  primaryTeam: LearnAmpTeamRef.nullable(),
  teams: z.array(LearnAmpTeamRef),
  primaryLocation: z.object({ externalId: z.string(), name: nullableString }).nullable(),
  avatar: nullableString,
  legalEntityId: nullableString,
  employmentType: nullableString,
  status: LearnAmpUserStatus,
  deactivationReason: z.enum(['left', 'inactive', 'deleted_in_source']).nullable(),
  invite: z.object({
    status: z.enum(['none', 'scheduled', 'invited']),
    dueAt: nullableString,
    invitedAt: nullableString,
  }),
  issues: z.array(LearnAmpUserIssue),
})
export type LearnAmpUser = z.infer<typeof LearnAmpUser>

export const LearnAmpTeam = z.object({
  externalId: z.string(),
  remoteId: nullableString,
  name: nullableString,
  type: z.enum(['DEPARTMENT', 'TEAM', 'COST_CENTER']).nullable(),
  parentId: nullableString,
  deleted: z.boolean(),
})
export type LearnAmpTeam = z.infer<typeof LearnAmpTeam>

export const LearnAmpAddress = z.object({
  street1: nullableString,
  street2: nullableString,
  city: nullableString,
  state: nullableString,
  zipCode: nullableString,
  country: nullableString,
  raw: nullableString,
})

export const LearnAmpLocation = z.object({
  externalId: z.string(),
  remoteId: nullableString,
  name: nullableString,
  type: nullableString,
  address: LearnAmpAddress.nullable(),
  deleted: z.boolean(),
})
export type LearnAmpLocation = z.infer<typeof LearnAmpLocation>
