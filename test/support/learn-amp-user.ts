// A Learn Amp user as the views hold it, for tests and probes that write users straight into a view
// store: an active employee with every optional field empty, overridden where a case needs it.
import type { LearnAmpUser } from '../../schemas/learnamp.ts'

export function aLearnAmpUser(externalId: string, overrides: Partial<LearnAmpUser> = {}): LearnAmpUser {
  return {
    externalId,
    remoteId: null,
    employeeNumber: null,
    firstName: 'Ada',
    lastName: 'Lovelace',
    displayName: 'Ada Lovelace',
    jobTitle: 'Engineer',
    email: `${externalId}@acme.test`,
    hireDate: '2024-01-01',
    leaveDate: null,
    manager: null,
    primaryTeam: null,
    teams: [],
    primaryLocation: null,
    avatar: null,
    legalEntityId: null,
    employmentType: null,
    status: 'active',
    deactivationReason: null,
    invite: { status: 'none', dueAt: null, invitedAt: null },
    issues: [],
    ...overrides,
  }
}
