// Data minimisation: the one table of what kombo-sync keeps of each Kombo resource, and which scope
// of the integration needs it (../shared/DESIGN.md, "Field mapping" and "Data kept"). Everything
// not listed here — above all `ssn`, `tax_id`, `bank_accounts`, `home_address`, `personal_email`,
// `mobile_phone_number`, `date_of_birth`, `gender`, `ethnicity`, `marital_status`, the pay data in
// `employments[]`, and any field Kombo adds later — is dropped at the poller
// (producers/minimise-record.ts), before the change log, so it never reaches the event store, the
// views, the feed or the logs. An allowlist, not a blocklist: a field Kombo adds tomorrow is
// dropped until someone decides a scope needs it and adds it here (and to docs/data-kept.md).
import { komboResources, type KomboResource } from './kombo.ts'
import { OptionalResource, type OptionalField } from './tenant.ts'

/**
 * The optional scopes are the tenant setting `optionalFields` (schemas/tenant.ts): the optional
 * employee fields the tenant keeps, all of them unless the list says otherwise. `core`: needed by
 * the user directory itself, never switched off.
 */
export type DataScope = 'core' | OptionalField

export interface KeptField {
  scope: DataScope
  /** What it is used for (shown in docs/data-kept.md). */
  use: string
  /** For a list of objects (`groups`): only these fields of each element are kept. */
  each?: readonly string[]
}

export interface ResourceScope {
  fields: Readonly<Record<string, KeptField>>
}

const core = (use: string): KeptField => ({ scope: 'core', use })
/** Identity and change tracking, kept on every resource: without them nothing can be synced. */
const recordBase = {
  id: core("Kombo's stable id: the entity's identity"),
  remote_id: core("the HR system's id, a secondary identifier"),
  changed_at: core('change tracking (watermark, ordering, as-of)'),
  remote_deleted_at: core('deletion in the HR system'),
} as const

export const dataScopes: Readonly<Record<KomboResource, ResourceScope>> = {
  employees: {
    fields: {
      ...recordBase,
      employee_number: core('secondary identifier, shown on the user'),
      first_name: core('first_name'),
      last_name: core('last_name'),
      display_full_name: core('display name (falls back to first + last)'),
      job_title: core('job_title on the profile'),
      work_email: core('email: the login identity'),
      employment_status: core('active / pending / inactive: drives (de)activation'),
      start_date: core('hire_date: drives invite timing and activation'),
      termination_date: core('leave_date: drives deactivation'),
      manager_id: core('manager, resolved to the manager\'s user'),
      work_location_id: core('primary_location, resolved to the location view'),
      groups: { scope: 'core', use: 'teams and primary_team', each: ['id', 'name', 'type'] },
      remote_created_at: core('when the HR system created the record (audit)'),
      avatar: { scope: 'avatar', use: 'avatar on the profile' },
      nationality: { scope: 'nationality', use: 'kept on the user (optional scope)' },
      employment_type: { scope: 'employment_type', use: 'kept on the user (optional scope)' },
      legal_entity_id: { scope: 'legal_entity_id', use: 'legal entity of the user (optional scope)' },
      custom_fields: { scope: 'custom_fields', use: "the customer's own mapped fields (optional scope)" },
    },
  },
  groups: {
    fields: { ...recordBase, name: core('team name'), type: core('team / department / cost center'), parent_id: core('team hierarchy') },
  },
  'work-locations': {
    fields: { ...recordBase, name: core('location name'), address: core("the office's address (company data)"), type: core('location type') },
  },
  'legal-entities': {
    fields: { ...recordBase, name: core('legal entity name'), address: core("the entity's registered address (company data)") },
  },
  'absence-types': {
    fields: {
      ...recordBase,
      name: core('absence type name'),
      unit: core('days or hours'),
      half_days_supported: core('how absences of this type are counted'),
      exact_times_supported: core('how absences of this type are counted'),
    },
  },
  absences: {
    // Not kept: `employee_note` (free text, may hold health details no scope needs) and the
    // expanded `type` (`type_id` names it; absence types are their own resource).
    fields: {
      ...recordBase,
      employee_id: core('whose absence'),
      approver_id: core('who approved it'),
      type_id: core('the absence type'),
      status: core('requested / approved / declined / cancelled'),
      start_date: core('when'),
      end_date: core('when'),
      start_half_day: core('when'),
      end_half_day: core('when'),
      start_time: core('when'),
      end_time: core('when'),
      amount: core('how long'),
      unit: core('days or hours'),
      remote_created_at: core('audit'),
      remote_updated_at: core('audit'),
    },
  },
}

/** The optional fields a tenant keeps: its `optionalFields` setting; absent means all of them. */
export type KeptOptionalFields = readonly OptionalField[] | undefined

/** Whether `scope` is on for a tenant keeping these optional fields. */
export function scopeEnabled(scope: DataScope, optional: KeptOptionalFields): boolean {
  return scope === 'core' || optional === undefined || optional.includes(scope)
}

/** The fields kept of one resource for a tenant: field → the element fields kept (null: the whole value). */
export function keptFields(resource: KomboResource, optional: KeptOptionalFields): ReadonlyMap<string, readonly string[] | null> {
  const kept = new Map<string, readonly string[] | null>()
  for (const [field, rule] of Object.entries(dataScopes[resource].fields)) {
    if (scopeEnabled(rule.scope, optional)) kept.set(field, rule.each ?? null)
  }
  return kept
}

/**
 * The Kombo resources polled for a tenant: the directory's own (employees, groups, work locations)
 * always, the optional ones (`optionalResources`) only while switched on. A resource left out is
 * never requested from Kombo, so none of its records enter the change log.
 */
export function polledResources(settings: { optionalResources: readonly OptionalResource[] }): KomboResource[] {
  const optional = new Set<string>(OptionalResource.options)
  return komboResources.filter((resource) => !optional.has(resource) || settings.optionalResources.includes(resource as OptionalResource))
}
