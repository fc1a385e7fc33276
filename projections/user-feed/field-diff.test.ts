// field-diff.ts reads which user fields changed straight off two records. Here it is checked against
// the definitions it replaced — the user feed's snapshots compared field by field as JSON, and the
// change log's field maps built from those snapshots (both copied below as they were) — over many
// generated pairs of states: teams reordered, renamed, dropped or given the same ids in a new array,
// null and empty values, blank and padded emails, display names from first and last name,
// managers and locations set, cleared or blank, and untouched keys shared as facts leave them.
import t from 'tap'
import type { EmployeeState } from '../../processors/domain/employee-state.ts'
import type { ChangeField, FieldChange } from '../../schemas/audit.ts'
import type { UserFeedField, UserFeedSnapshot } from '../../schemas/user-feed.ts'
import { ownFieldsOf, ownUserFields as ownFields } from '../mapping/learnamp-user.ts'
import { causeOf } from '../audit/change-entries.ts'
import { changedFeedFields, changedUserFields } from './field-diff.ts'
import { toFeedUser } from './mapping.ts'

// ---- The definitions as they were (projections/user-feed/mapping.ts and audit/change-entries.ts at b411376).
function changedFieldsAsBefore(before: UserFeedSnapshot, after: UserFeedSnapshot): UserFeedField[] {
  const sameAsJson = (a: unknown, b: unknown) => a === b || (!(typeof a === 'string' && typeof b === 'string') && JSON.stringify(a) === JSON.stringify(b))
  return (Object.keys(after) as UserFeedField[]).filter((f) => !sameAsJson(before[f], after[f]))
}
const notOwnFields = new Set<string>(['externalId', 'managerExternalId', 'locationExternalId', 'teams'])
function userFieldsAsBefore(state: EmployeeState | null): Partial<Record<ChangeField, unknown>> {
  if (state === null) return {}
  const snapshot = toFeedUser(state)
  const own: Record<string, unknown> = {}
  for (const key of Object.keys(snapshot) as Array<keyof typeof snapshot>) if (!notOwnFields.has(key)) own[key] = snapshot[key]
  return { ...own, manager: snapshot.managerExternalId, teams: snapshot.teams.map((x) => x.externalId), primaryLocation: snapshot.locationExternalId }
}
const sameAsBefore = (a: unknown, b: unknown) => (typeof a === 'string' && typeof b === 'string' ? a === b : JSON.stringify(a ?? null) === JSON.stringify(b ?? null))
function diffAsBefore(before: Partial<Record<ChangeField, unknown>>, after: Partial<Record<ChangeField, unknown>>): FieldChange[] {
  const changes: FieldChange[] = []
  const add = (field: ChangeField) => {
    if (!sameAsBefore(before[field], after[field])) changes.push({ field, before: before[field] ?? null, after: after[field] ?? null })
  }
  for (const field of Object.keys(before) as ChangeField[]) add(field)
  for (const field of Object.keys(after) as ChangeField[]) if (!Object.hasOwn(before, field)) add(field)
  return changes
}
function causeAsBefore(metadata: Record<string, unknown>) {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
  const explicit = metadata.cause as { kind?: unknown; actor?: unknown } | string | undefined
  const kind = typeof explicit === 'string' ? explicit : str(explicit?.kind)
  const actor = str(metadata.actor) ?? (typeof explicit === 'object' ? str(explicit?.actor) : undefined)
  const pollId = str(metadata.pollId)
  const withExtras = (c: { kind: string }) => ({ ...c, ...(actor && c.kind !== 'poll' && c.kind !== 'clock' ? { actor } : {}), ...(pollId ? { pollId } : {}) })
  if (kind === 'poll' || kind === 'webhook' || kind === 'clock' || kind === 'manual' || kind === 'hold-release') return withExtras({ kind })
  if (metadata.by === 'clock') return { kind: 'clock' }
  if (str(metadata.commandId) || actor) return withExtras({ kind: 'manual' })
  if (str(metadata.trigger) === 'webhook') return withExtras({ kind: 'webhook' })
  return withExtras({ kind: 'poll' })
}

// ---- Generated states (a small seeded PRNG: the same cases every run).
let seed = 20261206
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]
const strings = [undefined, null, '', 'a', 'b', 'Ada', 'Lovelace', 42] as const
const emails = [undefined, null, '', ' ', 'ada@example.com', ' ada@example.com ', 'ADA@example.com', 7] as const
const refs = [undefined, null, '', 'emp-1', 'emp-2', 'loc-1', 'loc-2'] as const
const group = () => pick([null, {}, { id: '' }, { id: 'g1', name: 'One', type: 'TEAM' }, { id: 'g1', name: 'Uno', type: 'TEAM' }, { id: 'g1', name: null, type: 'DEPARTMENT' }, { id: 'g2', name: '', type: '' }, { id: 'g2', name: 'Two' }, { id: 'g3', type: 'COST_CENTER' }, { id: 7 }])
const groupsValue = () => pick([undefined, null, 'not a list', [], [group()], [group(), group()], [group(), group(), group()]])
const keys = ['remote_id', 'employee_number', 'first_name', 'last_name', 'display_full_name', 'job_title', 'work_email', 'start_date', 'termination_date', 'avatar', 'legal_entity_id', 'employment_type', 'manager_id', 'work_location_id', 'groups', 'custom_fields'] as const

function valueFor(key: (typeof keys)[number]): unknown {
  if (key === 'work_email') return pick(emails)
  if (key === 'manager_id' || key === 'work_location_id') return pick(refs)
  if (key === 'groups') return groupsValue()
  if (key === 'custom_fields') return { shirt: pick(['S', 'L']) }
  return pick(strings)
}

function aState(employeeId = 'emp-1'): EmployeeState {
  const record: Record<string, unknown> = {}
  for (const key of keys) if (random() < 0.85) record[key] = valueFor(key)
  return { tenant: 'acme', employeeId, record, changedAt: '2026-01-01T00:00:00.000Z', deleted: false, started: null, left: null, invite: { status: 'none' }, userActive: null, deactivationReason: null } as EmployeeState
}

/** The next state as a fact makes it: the record copied with a few keys set (or the same values in new objects). */
function nextOf(state: EmployeeState): EmployeeState {
  const record: Record<string, unknown> = { ...state.record }
  const n = pick([0, 1, 1, 2, 3])
  for (let i = 0; i < n; i++) {
    const key = pick(keys)
    const how = random()
    if (key === 'groups' && Array.isArray(record.groups) && how < 0.2) record.groups = [...(record.groups as unknown[])].reverse()
    else if (key === 'groups' && Array.isArray(record.groups) && how < 0.4) record.groups = JSON.parse(JSON.stringify(record.groups)) // same teams, a new array
    else if (key === 'groups' && Array.isArray(record.groups) && how < 0.7) record.groups = (record.groups as unknown[]).map((g) => (g && typeof g === 'object' && random() < 0.7 ? { ...g, [pick(['name', 'type'])]: pick(['Platform', 'TEAM', null, '']) } : g)) // renamed or retyped
    else if (how < 0.1) delete record[key]
    else record[key] = valueFor(key)
  }
  return { ...state, record }
}

t.test('the fields read off two records are what comparing the snapshots gave, for the feed and the change log', async (t) => {
  let feedChanges = 0
  let logChanges = 0
  let teamsOnlyRenamed = 0
  for (let i = 0; i < 4000; i++) {
    let state = aState()
    t.equal(JSON.stringify(changedUserFields(null, state)), JSON.stringify(diffAsBefore({}, userFieldsAsBefore(state))), 'a created user')
    for (let k = 0; k < 5; k++) {
      const next = random() < 0.02 ? aState() : nextOf(state)
      const feed = changedFeedFields(state, next)
      const log = changedUserFields(state, next)
      const feedBefore = changedFieldsAsBefore(toFeedUser(state), toFeedUser(next))
      const logBefore = diffAsBefore(userFieldsAsBefore(state), userFieldsAsBefore(next))
      // Not t.same (which tolerates key order and loose types): the JSON is what gets written.
      if (JSON.stringify(feed) !== JSON.stringify(feedBefore)) t.fail(`feed fields differ: ${JSON.stringify({ before: state.record, after: next.record, feed, feedBefore })}`)
      if (JSON.stringify(log) !== JSON.stringify(logBefore)) t.fail(`change log fields differ: ${JSON.stringify({ before: state.record, after: next.record, log, logBefore })}`)
      feedChanges += feed.length
      logChanges += log.length
      if (feed.includes('teams') && !log.some((c) => c.field === 'teams')) teamsOnlyRenamed++
      state = next
    }
  }
  // The generated cases do exercise changes (not 4,000 identical states).
  t.ok(feedChanges > 5000 && logChanges > 5000, `changes seen: feed ${feedChanges}, change log ${logChanges}`)
  t.ok(teamsOnlyRenamed > 50, `teams renamed or retyped with the same ids (a feed change, no change-log one): ${teamsOnlyRenamed}`)
})

t.test('another employee id is a change of the feed snapshot (externalId)', async (t) => {
  const ada = aState('emp-1')
  const bob = { ...ada, employeeId: 'emp-2' }
  t.same(changedFeedFields(ada, bob), changedFieldsAsBefore(toFeedUser(ada), toFeedUser(bob)))
  t.same(changedFeedFields(ada, bob), ['externalId'])
})

t.test('ownFields lists what ownFieldsOf returns, in its order and with its values', async (t) => {
  for (let i = 0; i < 500; i++) {
    const state = aState()
    const own = ownFieldsOf(state) as Record<string, unknown>
    t.same(Object.keys(own), ['externalId', ...ownFields.map((f) => f.field)])
    for (const f of ownFields) if (own[f.field] !== f.value(state.record)) t.fail(`${f.field} of ${JSON.stringify(state.record)}`)
  }
})

t.test('causeOf gives what it gave, keys in the same order', async (t) => {
  const maybe = <T>(xs: readonly T[]) => (random() < 0.5 ? undefined : pick(xs))
  for (let i = 0; i < 3000; i++) {
    const metadata: Record<string, unknown> = {}
    const cause = pick([undefined, null, 'poll', 'webhook', 'clock', 'manual', 'hold-release', 'other', '', { kind: pick(['poll', 'manual', 'hold-release', '', 'x', undefined]), actor: maybe(['ops', '']) }])
    if (cause !== undefined) metadata.cause = cause
    const extras: Array<[string, readonly unknown[]]> = [['actor', ['ops', '', 3]], ['pollId', ['p-1', '']], ['by', ['clock', 'manual']], ['commandId', ['c-1', '']], ['trigger', ['webhook', 'poll']]]
    for (const [key, values] of extras) {
      const v = maybe(values)
      if (v !== undefined) metadata[key] = v
    }
    const got = JSON.stringify(causeOf(metadata))
    const want = JSON.stringify(causeAsBefore(metadata))
    if (got !== want) t.fail(`${JSON.stringify(metadata)}: ${got}, was ${want}`)
  }
  t.pass('3,000 generated metadata')
})
