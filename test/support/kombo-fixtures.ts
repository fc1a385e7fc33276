// Kombo records for tests: a complete, valid record with the fields a test cares about overridden.
import type { KomboEmployee, KomboGroup } from '../../schemas/kombo.ts'

export function anEmployee(overrides: Partial<KomboEmployee> & Record<string, unknown> = {}): KomboEmployee {
  return {
    id: 'emp-1',
    remote_id: 'P-1',
    changed_at: '2026-01-10T09:00:00.000Z',
    remote_deleted_at: null,
    employee_number: '1001',
    first_name: 'Ada',
    last_name: 'Lovelace',
    display_full_name: 'Ada Lovelace',
    job_title: 'Engineer',
    work_email: 'ada@example.com',
    employment_status: 'ACTIVE',
    employment_type: 'FULL_TIME',
    avatar: null,
    work_location_id: 'loc-1',
    legal_entity_id: 'le-1',
    manager_id: null,
    start_date: '2026-01-01',
    termination_date: null,
    custom_fields: { shirt: 'M' },
    groups: [{ id: 'grp-1', name: 'Platform', type: 'TEAM' }],
    ...overrides,
  }
}

export function aGroup(overrides: Partial<KomboGroup> & Record<string, unknown> = {}): KomboGroup {
  return {
    id: 'grp-1',
    remote_id: 'G-1',
    changed_at: '2026-01-10T09:00:00.000Z',
    remote_deleted_at: null,
    name: 'Platform',
    type: 'TEAM',
    parent_id: null,
    ...overrides,
  }
}

/** `changed_at` n minutes after the fixture's default, to order records in a test. */
export const later = (minutes: number): string => new Date(Date.parse('2026-01-10T09:00:00.000Z') + minutes * 60_000).toISOString()
