// Stream names: one stream per entity and tenant, `{category}-{tenant}_{komboId}`.
import type { KomboResource } from './kombo.ts'

export const streamCategories = {
  employees: 'employee',
  groups: 'team',
  'work-locations': 'location',
  'legal-entities': 'legalEntity',
  'absence-types': 'absenceType',
  absences: 'absence',
} as const satisfies Record<KomboResource, string>
export type StreamCategory = (typeof streamCategories)[KomboResource]

export const streamName = (category: StreamCategory, tenant: string, komboId: string): string =>
  `${category}-${tenant}_${komboId}`
export const employeeStreamName = (tenant: string, komboId: string) => streamName('employee', tenant, komboId)

/** Splits a stream name back into its parts; null for streams that are not ours. */
export function parseStreamName(name: string): { category: StreamCategory; tenant: string; komboId: string } | null {
  const m = /^(employee|team|location|legalEntity|absenceType|absence)-([a-z0-9-]+)_(.+)$/.exec(name)
  if (!m) return null
  return { category: m[1] as StreamCategory, tenant: m[2], komboId: m[3] }
}
