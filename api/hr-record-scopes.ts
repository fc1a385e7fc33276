// The optional resources (legal entities, absence types, absences) are served only for a tenant
// that syncs them (its `optionalResources` setting, schemas/tenant.ts). For a tenant that switched
// one off the routes answer 404 with the reason, instead of an empty list that would read as
// "this company has no absences".
import type { HrRecordKind } from '../schemas/hr-records.ts'
import type { OptionalResource, TenantSettings } from '../schemas/tenant.ts'
import type { HrRecordReader } from '../projections/viewstore/port.ts'
import { ApiError } from './errors.ts'

const resourceOfKind: Record<HrRecordKind, OptionalResource> = {
  legalEntity: 'legal-entities',
  absenceType: 'absence-types',
  absence: 'absences',
}

export function scopedHrRecords(reader: HrRecordReader, settingsOf: (tenant: string) => TenantSettings | undefined): HrRecordReader {
  const check = (tenant: string, kind: HrRecordKind) => {
    const resource = resourceOfKind[kind]
    const settings = settingsOf(tenant)
    if (settings && !settings.optionalResources.includes(resource)) {
      throw new ApiError(404, 'scope_off', `tenant '${tenant}' does not sync ${resource} (an optional scope switched off in its settings, optionalResources)`)
    }
  }
  return {
    listHrRecords: async (tenant, kind, query) => {
      check(tenant, kind)
      return reader.listHrRecords(tenant, kind, query)
    },
    getHrRecord: async (tenant, kind, id) => {
      check(tenant, kind)
      return reader.getHrRecord(tenant, kind, id)
    },
  }
}
