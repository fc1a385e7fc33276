// One integration's HR data and the ways an HR admin changes it. Every mutation stamps the record
// with the integration's strictly increasing change clock, as Kombo's change tracking would.
import type { KomboEmployee, KomboResource } from '../schemas/kombo.ts'
import { komboResources } from '../schemas/kombo.ts'
import { ChangeClock } from './clock.ts'
import { buildAbsence, buildEmployee, dayFrom, generateCompany, type CompanyRecords, type CompanyShape, type HiringContext, type SimRecord } from './generate-company.ts'
import { embedAbsenceType, embedLegalEntity, embedLocation, embedManager, embedMemberships, managerEmbedFields } from './embeds.ts'
import { createRng, type Rng } from './rng.ts'
import { ChangeIndex } from './change-index.ts'
import type { PageSource } from './list-query.ts'
import { KomboSyncError } from '../errors/kombo-sync-error.ts'

/** A control call named a record the company does not have; retrying will not help. */
export class SimulatedRecordNotFoundError extends KomboSyncError {
  readonly retriable = false
  constructor(
    readonly resource: KomboResource,
    readonly id: string,
  ) {
    super(`no ${resource} record with id ${id}`)
    this.name = 'SimulatedRecordNotFoundError'
  }
}

export type RandomChange = { kind: string; resource: KomboResource; id: string }

/** Accepts `2024-03-01` or any ISO date-time; stores Kombo's `2024-03-01T00:00:00.000Z` form. */
export function toKomboDate(input: string): string {
  const parsed = new Date(input)
  if (Number.isNaN(parsed.getTime())) throw new RangeError(`not a date: ${input}`)
  return parsed.toISOString()
}

export class SimulatedCompany {
  private readonly store: Record<KomboResource, ChangeIndex>
  private readonly clock: ChangeClock
  private readonly ctx: HiringContext
  private readonly rng: Rng

  constructor(
    seed: number,
    shape: CompanyShape,
    private readonly now: () => Date,
    /** The company's data as it is (a reconnect's copy) instead of a generated one. */
    given?: (rng: Rng) => { records: CompanyRecords; ctx: HiringContext },
  ) {
    this.rng = createRng(seed)
    const { records, ctx } = given ? given(this.rng) : generateCompany(this.rng, shape, now())
    this.clock = new ChangeClock(now)
    this.store = Object.fromEntries(komboResources.map((r) => [r, new ChangeIndex(records[r])])) as Record<KomboResource, ChangeIndex>
    this.ctx = { ...ctx, employeeById: (id) => this.store.employees.get(id) }
    for (const resource of komboResources) for (const rec of records[resource]) this.clock.advancePast(rec.changed_at)
  }

  /**
   * The same company as a customer's reconnected HR system shows it through a new Kombo
   * integration: the same people, teams and leave, with the same `remote_id`s and emails, but every
   * Kombo id new (references rewritten to match) and every record stamped now, as Kombo's first
   * sync of the new integration would. Deleted records stay deleted.
   */
  reconnectedCopy(seed: number): SimulatedCompany {
    const rng = createRng(seed ^ 0x5eed)
    const newIds = new Map<string, string>()
    for (const resource of komboResources) for (const r of this.store[resource].all()) newIds.set(r.id, rng.id())
    // Any string that is a record id is a reference to that record (ids are random 24-character strings).
    const rewrite = (value: unknown): unknown => {
      if (typeof value === 'string') return newIds.get(value) ?? value
      if (Array.isArray(value)) return value.map(rewrite)
      if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v)]))
      return value
    }
    const stamp = this.now().toISOString()
    const records = Object.fromEntries(
      komboResources.map((resource) => [resource, this.store[resource].all().map((r) => ({ ...(rewrite(r) as SimRecord), changed_at: stamp }))]),
    ) as CompanyRecords
    const byId = new Map(komboResources.flatMap((resource) => records[resource].map((r) => [r.id, r] as const)))
    const remap = (list: SimRecord[]) => list.map((r) => byId.get(newIds.get(r.id) ?? r.id) ?? r)
    let employeeNumber = Math.max(0, ...records.employees.map((e) => Number(e.employee_number) || 0))
    return new SimulatedCompany(seed, { employees: 0, teams: 0, locations: 0 }, this.now, (copyRng) => ({
      records,
      ctx: {
        ...this.ctx,
        rng: copyRng,
        now: this.now(),
        teams: remap(this.ctx.teams),
        groupsById: new Map(records.groups.map((g) => [g.id, g])),
        locations: remap(this.ctx.locations),
        legalEntities: remap(this.ctx.legalEntities),
        absenceTypes: remap(this.ctx.absenceTypes),
        usedEmails: new Set(this.ctx.usedEmails),
        nextEmployeeNumber: () => ++employeeNumber,
      },
    }))
  }

  /** Current records ordered by (changed_at, id), copies so callers cannot bypass the clock. */
  list(resource: KomboResource, opts: { includeDeleted?: boolean } = {}): SimRecord[] {
    return this.current(resource, opts).map((r) => structuredClone(r))
  }

  /** What Kombo's list endpoint pages through: every record, deleted ones included, in change order. */
  changes(resource: KomboResource): PageSource {
    const index = this.store[resource]
    return { after: (from) => index.after(from), has: (id) => index.has(id) }
  }

  get(resource: KomboResource, id: string): SimRecord | undefined {
    const rec = this.store[resource].get(id)
    return rec ? structuredClone(rec) : undefined
  }

  has(resource: KomboResource, id: string): boolean {
    return this.store[resource].has(id)
  }

  hire(fields: Partial<KomboEmployee> = {}): SimRecord {
    const managers = this.current('employees').filter((e) => e.employment_status === 'ACTIVE')
    const manager = managers.length > 0 ? this.rng.pick(managers) : undefined
    const start = fields.start_date ? toKomboDate(String(fields.start_date)) : dayFrom(this.now(), 0)
    const status = Date.parse(start) > this.now().getTime() ? 'PENDING' : 'ACTIVE'
    const record = buildEmployee(this.ctx, manager?.id ?? null, this.clock.tick(), { employment_status: status, termination_date: null, ...fields, start_date: start })
    this.store.employees.set(record)
    return structuredClone(record)
  }

  update(resource: KomboResource, id: string, patch: Record<string, unknown>): SimRecord {
    return structuredClone(this.change(resource, id, patch))
  }

  /**
   * `update` without handing back a copy: for load generators (the steady-state benches), where the
   * copy (structuredClone of a ~4 KB employee, ~50 µs) was most of an update's cost.
   */
  apply(resource: KomboResource, id: string, patch: Record<string, unknown>): void {
    this.change(resource, id, patch)
  }

  /** The stored new version (callers copy it before it leaves the simulator). */
  private change(resource: KomboResource, id: string, patch: Record<string, unknown>): SimRecord {
    const current = this.mustGet(resource, id)
    const { id: _ignored, ...rest } = patch
    const next: SimRecord = { ...current, ...rest, id, changed_at: this.clock.tick() }
    if (resource === 'employees') this.refreshEmployeeEmbeds(next, patch)
    if (resource === 'absences' && !('remote_updated_at' in patch)) next.remote_updated_at = next.changed_at
    if (resource === 'absences' && 'type_id' in patch) next.type = embedAbsenceType(this.store['absence-types'].get(String(next.type_id)))
    this.store[resource].set(next)
    if (resource === 'groups' || resource === 'work-locations' || resource === 'legal-entities') this.propagateToEmployees(resource, id)
    if (resource === 'employees' && managerEmbedFields.some((f) => f in patch)) this.propagateToReports(id)
    if (resource === 'absence-types') this.propagateToAbsences(id)
    return next
  }

  moveToTeam(employeeId: string, groupIds: string[]): SimRecord {
    return this.update('employees', employeeId, { groups: embedMemberships(groupIds, this.ctx.groupsById) })
  }

  setTermination(employeeId: string, terminationDate: string | null): SimRecord {
    const employee = this.mustGet('employees', employeeId)
    if (terminationDate === null) {
      const status = employee.employment_status === 'INACTIVE' ? 'ACTIVE' : employee.employment_status
      return this.update('employees', employeeId, { termination_date: null, employment_status: status })
    }
    const date = toKomboDate(terminationDate)
    const past = Date.parse(date) <= this.now().getTime()
    return this.update('employees', employeeId, { termination_date: date, ...(past ? { employment_status: 'INACTIVE' } : {}) })
  }

  remove(resource: KomboResource, id: string): SimRecord {
    this.mustGet(resource, id)
    const at = this.clock.tick()
    const next = { ...this.mustGet(resource, id), changed_at: at, remote_deleted_at: at }
    this.store[resource].set(next)
    return structuredClone(next)
  }

  restore(resource: KomboResource, id: string): SimRecord {
    return this.update(resource, id, { remote_deleted_at: null })
  }

  /** A future start date makes the returning employee PENDING until then, as HR systems report it. */
  rehire(employeeId: string, startDate: string): SimRecord {
    const start = toKomboDate(startDate)
    const status = Date.parse(start) > this.now().getTime() ? 'PENDING' : 'ACTIVE'
    return this.update('employees', employeeId, { termination_date: null, employment_status: status, start_date: start, remote_deleted_at: null })
  }

  randomChange(): RandomChange {
    const rng = this.rng
    const employees = this.current('employees')
    const active = employees.filter((e) => e.employment_status === 'ACTIVE' && e.manager_id !== null)
    const inactive = employees.filter((e) => e.employment_status === 'INACTIVE')
    const pending = employees.filter((e) => e.employment_status === 'PENDING')
    const roll = rng.next()
    if (roll < 0.15 || active.length === 0) return { kind: 'hire', resource: 'employees', id: this.hire().id }
    const someone = rng.pick(active)
    if (roll < 0.4) {
      const titles = ['Senior ' + String(someone.job_title).replace(/^Senior /, ''), 'Team Lead', 'Principal Consultant', 'Specialist']
      return { kind: 'edit-title', resource: 'employees', id: this.update('employees', someone.id, { job_title: rng.pick(titles) }).id }
    }
    if (roll < 0.55) return { kind: 'move-team', resource: 'employees', id: this.moveToTeam(someone.id, [rng.pick(this.ctx.teams).id]).id }
    if (roll < 0.62) return { kind: 'leaver', resource: 'employees', id: this.setTermination(someone.id, dayFrom(this.now(), -1)).id }
    if (roll < 0.7) return { kind: 'future-leaver', resource: 'employees', id: this.setTermination(someone.id, dayFrom(this.now(), rng.int(7, 60))).id }
    if (roll < 0.75 && inactive.length > 0) return { kind: 'rehire', resource: 'employees', id: this.rehire(rng.pick(inactive).id, dayFrom(this.now(), 0)).id }
    if (roll < 0.8 && pending.length > 0) return { kind: 'started', resource: 'employees', id: this.rehire(rng.pick(pending).id, dayFrom(this.now(), 0)).id }
    if (roll < 0.85) {
      const manager = rng.pick(employees.filter((e) => e.id !== someone.id && e.employment_status === 'ACTIVE'))
      return { kind: 'new-manager', resource: 'employees', id: this.update('employees', someone.id, { manager_id: manager.id }).id }
    }
    if (roll < 0.88) return { kind: 'deleted', resource: 'employees', id: this.remove('employees', someone.id).id }
    if (roll < 0.9) {
      const team = rng.pick(this.ctx.teams)
      return { kind: 'rename-team', resource: 'groups', id: this.update('groups', team.id, { name: `${String(team.name).replace(/ \(renamed\)$/, '')} (renamed)` }).id }
    }
    const absence = buildAbsence(rng, this.now(), someone, rng.pick(this.current('absence-types')), this.clock.tick())
    this.store.absences.set(absence)
    return { kind: 'absence-requested', resource: 'absences', id: absence.id }
  }

  /** Current records in change order, not copies: for reads inside this class only. */
  private current(resource: KomboResource, opts: { includeDeleted?: boolean } = {}): SimRecord[] {
    const all = this.store[resource].all()
    return opts.includeDeleted ? all : all.filter((r) => r.remote_deleted_at === null)
  }

  private mustGet(resource: KomboResource, id: string): SimRecord {
    const rec = this.store[resource].get(id)
    if (!rec) throw new SimulatedRecordNotFoundError(resource, id)
    return rec
  }

  /** Keeps the expanded relations of an employee in step with the ids it points at. */
  private refreshEmployeeEmbeds(employee: SimRecord, patch: Record<string, unknown>): void {
    if ('work_location_id' in patch) employee.work_location = embedLocation(this.store['work-locations'].get(String(employee.work_location_id)))
    if ('legal_entity_id' in patch) employee.legal_entity = embedLegalEntity(this.store['legal-entities'].get(String(employee.legal_entity_id)))
    if ('manager_id' in patch) employee.manager = employee.manager_id === null ? null : embedManager(this.store.employees.get(String(employee.manager_id)))
    if (('first_name' in patch || 'last_name' in patch) && !('display_full_name' in patch))
      employee.display_full_name = `${String(employee.first_name)} ${String(employee.last_name)}`
  }

  /**
   * Kombo's `updated_after` also covers expanded relations: renaming a team changes the
   * `changed_at` of every employee that embeds it.
   */
  private propagateToEmployees(resource: 'groups' | 'work-locations' | 'legal-entities', id: string): void {
    const source = this.store[resource].get(id) as SimRecord
    if (resource === 'groups') this.ctx.groupsById.set(id, source)
    for (const employee of this.store.employees.values()) {
      let next: SimRecord | undefined
      if (resource === 'groups' && Array.isArray(employee.groups) && employee.groups.some((g) => (g as { id: string }).id === id)) {
        next = { ...employee, groups: (employee.groups as { id: string }[]).map((g) => (g.id === id ? { id, name: source.name, type: source.type, remote_id: source.remote_id } : g)) }
      } else if (resource === 'work-locations' && employee.work_location_id === id) {
        next = { ...employee, work_location: embedLocation(source) }
      } else if (resource === 'legal-entities' && employee.legal_entity_id === id) {
        next = { ...employee, legal_entity: embedLegalEntity(source) }
      }
      if (next) this.store.employees.set({ ...next, changed_at: this.clock.tick() })
    }
  }

  /** The reports of a manager embed the manager's name, email and status: keep them in step. */
  private propagateToReports(managerId: string): void {
    const manager = this.store.employees.get(managerId)
    for (const employee of [...this.store.employees.values()]) {
      if (employee.manager_id !== managerId) continue
      this.store.employees.set({ ...employee, manager: embedManager(manager), changed_at: this.clock.tick() })
    }
  }

  /** Absences embed their type: a renamed type re-stamps them, as Kombo's `updated_after` would. */
  private propagateToAbsences(typeId: string): void {
    const type = this.store['absence-types'].get(typeId)
    for (const absence of [...this.store.absences.values()]) {
      if (absence.type_id !== typeId) continue
      this.store.absences.set({ ...absence, type: embedAbsenceType(type), changed_at: this.clock.tick() })
    }
  }
}
