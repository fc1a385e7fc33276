// Stream names: one stream per entity and tenant, `{category}-{tenant}_{komboId}`.
//
// The stream kinds, once: each category with the Kombo resource folded into it and the prefix of
// its event vocabulary. Everything else that lists kinds derives from this table — the stream-name
// parser, the resource → category map, the projector's stream prefixes — and the deciders
// (processors/domain/stream-kinds.ts) are checked against it at compile time, so a kind added here
// cannot be forgotten there. (This half has no domain imports: schemas/ is the bottom layer.)
import type { KomboResource } from './kombo.ts'

export const streamKinds = {
  // Employee streams also hold the Learn Amp side decisions (`User…` events) of that employee.
  employee: { resource: 'employees', eventPrefix: 'Employee' },
  team: { resource: 'groups', eventPrefix: 'Team' },
  location: { resource: 'work-locations', eventPrefix: 'Location' },
  legalEntity: { resource: 'legal-entities', eventPrefix: 'LegalEntity' },
  absenceType: { resource: 'absence-types', eventPrefix: 'AbsenceType' },
  absence: { resource: 'absences', eventPrefix: 'Absence' },
} as const satisfies Record<string, { resource: KomboResource; eventPrefix: string }>

export type StreamCategory = keyof typeof streamKinds
export const streamCategoryList = Object.keys(streamKinds) as StreamCategory[]

/** The category whose row names this resource. */
type CategoryOf<R extends KomboResource> = { [C in StreamCategory]: (typeof streamKinds)[C]['resource'] extends R ? C : never }[StreamCategory]
/** Every Kombo resource has a stream kind: this fails to compile when a resource has no row. */
type ResourcesWithoutKind = Exclude<KomboResource, (typeof streamKinds)[StreamCategory]['resource']>
const everyResourceHasAKind: [ResourcesWithoutKind] extends [never] ? true : ResourcesWithoutKind = true
void everyResourceHasAKind

/** Resource → category (`groups` → `team`), derived from the table. */
export const streamCategories = Object.fromEntries(streamCategoryList.map((c) => [streamKinds[c].resource, c])) as {
  [R in KomboResource]: CategoryOf<R>
}

/** Our streams' name prefixes (`employee-`, `team-` …); system and foreign streams have none of them. */
export const ourStreamPrefixes: readonly string[] = streamCategoryList.map((c) => `${c}-`)

export const streamName = (category: StreamCategory, tenant: string, komboId: string): string =>
  `${category}-${tenant}_${komboId}`
export const employeeStreamName = (tenant: string, komboId: string) => streamName('employee', tenant, komboId)

// Longest first, so that a category that is a prefix of another (`absence`, `absenceType`) can never win early.
const streamNamePattern = new RegExp(
  `^(${[...streamCategoryList].sort((a, b) => b.length - a.length).join('|')})-([a-z0-9-]+)_(.+)$`,
)

/** Splits a stream name back into its parts; null for streams that are not ours. */
export function parseStreamName(name: string): { category: StreamCategory; tenant: string; komboId: string } | null {
  const m = streamNamePattern.exec(name)
  if (!m) return null
  return { category: m[1] as StreamCategory, tenant: m[2], komboId: m[3] }
}
