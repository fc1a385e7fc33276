// The parts of an employee record that Kombo sends when given the scopes, but that the seeded org
// does not depend on: identity and tax numbers, bank accounts, pay, time-off balances. They come
// from their own random stream per employee id, so adding them leaves the seeded company (names,
// teams, managers, dates) exactly as it was for every seed.
//
// They are here because a real integration may send them (Kombo's API reference, `@kombo-api/sdk`):
// kombo-sync must drop them at the poller (schemas/data-scopes.ts), and tests need them present to
// prove that.
import { createRng, seedFor, type Rng } from './rng.ts'
import type { SimRecord } from './generate-company.ts'

const ethnicities = ['WHITE', 'ASIAN', 'HISPANIC_LATINO', 'BLACK_AFRICAN_AMERICAN', 'MULTIPLE_ETHNICITIES', 'DECLINE_TO_SPECIFY'] as const
const maritalStatuses = ['SINGLE', 'MARRIED', 'DOMESTIC_PARTNERSHIP', 'DIVORCED', 'NOT_MARRIED'] as const
const banks = ['Sparkasse', 'Deutsche Bank', 'Commerzbank', 'ING', 'N26'] as const

const digits = (rng: Rng, n: number): string => Array.from({ length: n }, () => String(rng.int(0, 9))).join('')

/** A random stream of its own for one employee and purpose. */
export function detailRng(employeeId: string, purpose: string): Rng {
  return createRng(seedFor(0, `${purpose}:${employeeId}`))
}

/** ssn, tax_id, ethnicity, marital_status, bank_accounts. */
export function personalDetails(employeeId: string, holder: string): Record<string, unknown> {
  const rng = detailRng(employeeId, 'personal')
  return {
    ssn: `${digits(rng, 2)} ${digits(rng, 6)} ${String.fromCharCode(65 + rng.int(0, 25))} ${digits(rng, 3)}`,
    tax_id: digits(rng, 11),
    ethnicity: rng.pick(ethnicities),
    marital_status: rng.pick(maritalStatuses),
    bank_accounts: [
      {
        iban: `DE${digits(rng, 2)} ${digits(rng, 4)} ${digits(rng, 4)} ${digits(rng, 4)} ${digits(rng, 4)} ${digits(rng, 2)}`,
        bic: 'DEUTDEFFXXX',
        account_number: digits(rng, 10),
        holder_name: holder,
        bank_name: rng.pick(banks),
        domestic_bank_routing: { number: digits(rng, 8), type: 'DE_BANKLEITZAHL' },
      },
    ],
  }
}

/** Pay data of one employment (`employments[]`): rate, period, frequency, currency, custom fields. */
export function payDetails(employeeId: string, employmentType: string): Record<string, unknown> {
  const rng = detailRng(employeeId, 'pay')
  const hourly = employmentType === 'WORKING_STUDENT' || employmentType === 'INTERNSHIP'
  return {
    pay_rate: hourly ? rng.int(14, 22) : rng.int(42, 140) * 1000,
    pay_period: hourly ? 'HOUR' : 'YEAR',
    pay_frequency: 'MONTHLY',
    pay_currency: 'EUR',
    custom_fields: { salary_band: `B${rng.int(1, 6)}` },
  }
}

/** One balance per absence type (`time_off_balances[]`). */
export function timeOffBalances(employeeId: string, absenceTypes: readonly SimRecord[], changedAt: string): Record<string, unknown>[] {
  const rng = detailRng(employeeId, 'balances')
  return absenceTypes.map((type) => {
    const unit = type.unit === 'HOURS' ? 'HOURS' : 'DAYS'
    const balance = unit === 'HOURS' ? rng.int(0, 80) : rng.int(0, 30)
    return {
      id: rng.id(),
      remote_id: String(rng.int(100000, 999999)),
      employee_id: employeeId,
      type_id: type.id,
      balance,
      balance_unit: unit,
      used: rng.int(0, balance),
      used_unit: unit,
      changed_at: changedAt,
      remote_deleted_at: null,
    }
  })
}
