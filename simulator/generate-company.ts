// Builds the seeded demo company of one integration: org structure, people, leave.
// Pure: the same rng state and `now` give the same records.
import type { KomboResource } from '../schemas/kombo.ts'
import type { Rng } from './rng.ts'
import { cities, companyNames, departments, firstNames, lastNames, nationalities } from './names.ts'
import { embedAbsenceType, embedLegalEntity, embedLocation, embedManager, embedMemberships } from './embeds.ts'
import { payDetails, personalDetails, timeOffBalances } from './employee-details.ts'

export type SimRecord = Record<string, unknown> & { id: string; changed_at: string; remote_deleted_at: string | null }
export type CompanyRecords = Record<KomboResource, SimRecord[]>

export interface CompanyShape {
  employees: number
  teams: number
  locations: number
}

const DAY = 86_400_000

/** Midnight UTC `days` from `now`, in Kombo's date format (`2024-03-01T00:00:00.000Z`). */
export function dayFrom(now: Date, days: number): string {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())
  return new Date(midnight + days * DAY).toISOString()
}

/** What an employee is built from: the org it joins and the helpers that keep ids/emails unique. */
export interface HiringContext {
  rng: Rng
  now: Date
  domain: string
  teams: SimRecord[]
  groupsById: Map<string, SimRecord>
  locations: SimRecord[]
  legalEntities: SimRecord[]
  usedEmails: Set<string>
  nextEmployeeNumber: () => number
  /** For the balances every employee carries (empty while the seeded company is being built). */
  absenceTypes: SimRecord[]
  /** The current record of an employee, for the `manager` embed. */
  employeeById: (id: string) => SimRecord | undefined
}

function slug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '')
}

function uniqueEmail(ctx: HiringContext, first: string, last: string): string {
  const base = `${slug(first)}.${slug(last)}`
  let candidate = `${base}@${ctx.domain}`
  for (let n = 2; ctx.usedEmails.has(candidate); n++) candidate = `${base}${n}@${ctx.domain}`
  ctx.usedEmails.add(candidate)
  return candidate
}

type Lifecycle = { status: 'ACTIVE' | 'PENDING' | 'INACTIVE' | 'LEAVE'; start: number; termination: number | null }

function pickLifecycle(rng: Rng): Lifecycle {
  const r = rng.next()
  if (r < 0.05) return { status: 'PENDING', start: rng.int(3, 60), termination: null }
  if (r < 0.1) return { status: 'INACTIVE', start: -rng.int(400, 1500), termination: -rng.int(1, 360) }
  if (r < 0.13) return { status: 'LEAVE', start: -rng.int(200, 2000), termination: null }
  if (r < 0.16) return { status: 'ACTIVE', start: -rng.int(200, 2000), termination: rng.int(5, 90) }
  return { status: 'ACTIVE', start: -rng.int(7, 2900), termination: null }
}

/** One employee record; `fields` override anything generated (used by `hire`). */
export function buildEmployee(
  ctx: HiringContext,
  managerId: string | null,
  changedAt: string,
  fields: Record<string, unknown> = {},
  lifecycle: Lifecycle = pickLifecycle(ctx.rng),
): SimRecord {
  const { rng, now } = ctx
  const team = rng.pick(ctx.teams)
  const department = ctx.groupsById.get(String(team.parent_id))
  const titles = departments[String(department?.name)]?.titles ?? ['Specialist']
  const first = String(fields.first_name ?? rng.pick(firstNames))
  const last = String(fields.last_name ?? rng.pick(lastNames))
  const location = rng.pick(ctx.locations)
  const entity = rng.pick(ctx.legalEntities)
  const home = rng.pick(cities)
  const employmentType = rng.chance(0.8) ? 'FULL_TIME' : rng.pick(['PART_TIME', 'CONTRACT', 'INTERNSHIP', 'WORKING_STUDENT'] as const)
  const number = ctx.nextEmployeeNumber()
  const id = rng.id()
  const startDate = dayFrom(now, lifecycle.start)
  const jobTitle = rng.pick(titles)
  const managerRef = fields.manager_id !== undefined ? fields.manager_id : managerId
  const record: SimRecord = {
    id,
    remote_id: String(number),
    employee_number: String(1000 + number),
    first_name: first,
    last_name: last,
    nationality: rng.pick(nationalities),
    display_full_name: `${first} ${last}`,
    job_title: jobTitle,
    work_email: uniqueEmail(ctx, first, last),
    personal_email: rng.chance(0.7) ? `${slug(first)}${rng.int(1, 99)}@mail.example` : null,
    mobile_phone_number: rng.chance(0.8) ? `+49 15${rng.int(1, 9)} ${rng.int(1000000, 9999999)}` : null,
    gender: rng.pick(['MALE', 'FEMALE', 'NON_BINARY', 'NOT_SPECIFIED'] as const),
    date_of_birth: dayFrom(now, -rng.int(20 * 365, 62 * 365)),
    employment_status: lifecycle.status,
    employment_type: employmentType,
    weekly_hours: employmentType === 'FULL_TIME' ? 40 : rng.int(10, 30),
    avatar: rng.chance(0.5) ? `https://avatars.example/${id}.png` : null,
    work_location_id: location.id,
    legal_entity_id: entity.id,
    manager_id: managerId,
    start_date: startDate,
    termination_date: lifecycle.termination === null ? null : dayFrom(now, lifecycle.termination),
    remote_created_at: dayFrom(now, Math.min(lifecycle.start, 0) - rng.int(5, 40)),
    changed_at: changedAt,
    remote_deleted_at: null,
    custom_fields: { shirt_size: rng.pick(['S', 'M', 'L', 'XL'] as const) },
    integration_fields: [],
    groups: embedMemberships([team.id], ctx.groupsById),
    employments: [
      {
        id: rng.id(),
        remote_id: `E${number}`,
        employee_id: id,
        job_title: jobTitle,
        employment_type: employmentType,
        ...payDetails(id, employmentType),
        effective_date: startDate,
        changed_at: changedAt,
        remote_deleted_at: null,
      },
    ],
    time_off_balances: timeOffBalances(id, ctx.absenceTypes, changedAt),
    manager: typeof managerRef === 'string' ? embedManager(ctx.employeeById(managerRef)) : null,
    work_location: embedLocation(location),
    legal_entity: embedLegalEntity(entity),
    ...personalDetails(id, `${first} ${last}`),
    home_address: {
      street_1: `${home.street} ${rng.int(1, 200)}`,
      street_2: null,
      city: home.city,
      state: home.state,
      zip_code: home.zip,
      country: home.country,
      raw: null,
    },
  }
  return { ...record, ...fields, id, changed_at: changedAt, remote_deleted_at: null }
}

function address(rng: Rng, place: (typeof cities)[number]): Record<string, unknown> {
  const street = `${place.street} ${rng.int(1, 120)}`
  return { street_1: street, street_2: null, city: place.city, state: place.state, zip_code: place.zip, country: place.country, raw: `${street}\n${place.zip} ${place.city}` }
}

/** A past instant within the last 30 days: seeded data looks like it came from earlier syncs. */
function pastChange(rng: Rng, now: Date): string {
  return new Date(now.getTime() - rng.int(60_000, 30 * DAY)).toISOString()
}

export function generateCompany(rng: Rng, shape: CompanyShape, now: Date): { records: CompanyRecords; ctx: HiringContext } {
  const companyName = rng.pick(companyNames)
  const domain = `${slug(companyName)}-${rng.id().slice(0, 5).toLowerCase()}.example`
  const base = (): SimRecord => ({ id: rng.id(), remote_id: String(rng.int(10000, 99999)), changed_at: pastChange(rng, now), remote_deleted_at: null })

  const locations = Array.from({ length: Math.max(1, shape.locations) }, (_, i) => {
    const place = cities[i % cities.length] as (typeof cities)[number]
    const suffix = i >= cities.length ? ` ${Math.floor(i / cities.length) + 1}` : ''
    return { ...base(), name: `${place.city} Office${suffix}`, address: address(rng, place), type: 'OFFICE' }
  })
  const legalEntities = ['GmbH', 'Ltd', 'S.L.'].slice(0, rng.int(1, 3)).map((form, i) => ({
    ...base(),
    name: `${companyName} ${form}`,
    address: address(rng, cities[[0, 3, 4][i] as number] as (typeof cities)[number]),
  }))

  const departmentNames = Object.keys(departments)
  const departmentGroups = departmentNames.map((name) => ({ ...base(), name, type: 'DEPARTMENT', parent_id: null }))
  const teams: SimRecord[] = []
  for (let i = 0; i < Math.max(1, shape.teams); i++) {
    const dept = departmentGroups[i % departmentGroups.length] as SimRecord
    const names = departments[String(dept.name)]?.teams ?? ['Team']
    const round = Math.floor(i / departmentGroups.length)
    const teamName = names[round % names.length] as string
    const suffix = round >= names.length ? ` ${Math.floor(round / names.length) + 1}` : ''
    teams.push({ ...base(), name: `${teamName}${suffix}`, type: 'TEAM', parent_id: dept.id })
  }
  const costCenters = [1000, 2000].map((n) => ({ ...base(), name: `CC-${n}`, type: 'COST_CENTER', parent_id: null }))
  const groups = [...departmentGroups, ...teams, ...costCenters]

  let employeeCounter = 0
  const employeesById = new Map<string, SimRecord>()
  const ctx: HiringContext = {
    rng,
    now,
    domain,
    teams,
    groupsById: new Map(groups.map((g) => [g.id, g])),
    locations,
    legalEntities,
    usedEmails: new Set(),
    nextEmployeeNumber: () => ++employeeCounter,
    absenceTypes: [],
    employeeById: (id) => employeesById.get(id),
  }

  const employees: SimRecord[] = []
  for (let i = 0; i < shape.employees; i++) {
    // Managers come from earlier hires (a tree), drawn from the first third so the org has depth.
    const manager = i === 0 ? null : (employees[rng.int(0, Math.floor((i - 1) / 3))] as SimRecord)
    const lifecycle: Lifecycle | undefined = i === 0 ? { status: 'ACTIVE', start: -3000, termination: null } : undefined
    const employee = buildEmployee(ctx, manager?.id ?? null, pastChange(rng, now), {}, lifecycle)
    employees.push(employee)
    employeesById.set(employee.id, employee)
  }

  const absenceTypes = [
    { name: 'Vacation', unit: 'DAYS', half_days_supported: true, exact_times_supported: false },
    { name: 'Sick leave', unit: 'DAYS', half_days_supported: true, exact_times_supported: false },
    { name: 'Parental leave', unit: 'DAYS', half_days_supported: false, exact_times_supported: false },
    { name: 'Overtime compensation', unit: 'HOURS', half_days_supported: false, exact_times_supported: true },
  ].map((t) => ({ ...base(), ...t }))
  // Balances come after the types they count; they draw on their own random stream (employee-details.ts).
  ctx.absenceTypes = absenceTypes
  for (const employee of employees) employee.time_off_balances = timeOffBalances(employee.id, absenceTypes, employee.changed_at)

  const absences: SimRecord[] = []
  for (const employee of employees) {
    if (!rng.chance(0.3)) continue
    absences.push(buildAbsence(rng, now, employee, rng.pick(absenceTypes), pastChange(rng, now)))
  }

  return {
    records: { employees, groups, 'work-locations': locations, 'legal-entities': legalEntities, 'absence-types': absenceTypes, absences },
    ctx,
  }
}

export function buildAbsence(rng: Rng, now: Date, employee: SimRecord, type: SimRecord, changedAt: string): SimRecord {
  const startOffset = rng.int(-60, 60)
  const days = rng.int(1, 10)
  const status = startOffset < 0 ? rng.pick(['APPROVED', 'APPROVED', 'DECLINED', 'CANCELLED'] as const) : rng.pick(['REQUESTED', 'APPROVED'] as const)
  return {
    id: rng.id(),
    remote_id: String(rng.int(100000, 999999)),
    employee_id: employee.id,
    approver_id: (employee.manager_id as string | null) ?? null,
    start_date: dayFrom(now, startOffset).slice(0, 10),
    end_date: dayFrom(now, startOffset + days - 1).slice(0, 10),
    start_half_day: false,
    end_half_day: false,
    start_time: null,
    end_time: null,
    amount: type.unit === 'HOURS' ? days * 8 : days,
    unit: type.unit,
    status,
    employee_note: rng.chance(0.3) ? 'Family trip' : null,
    type_id: type.id,
    type: embedAbsenceType(type),
    remote_created_at: changedAt,
    remote_updated_at: changedAt,
    changed_at: changedAt,
    remote_deleted_at: null,
  }
}
