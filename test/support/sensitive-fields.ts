// Fields no scope of the integration needs, with values distinctive enough that finding one of
// them anywhere (a table, a topic, a log line) means it leaked. Used to prove data minimisation.

/** A patch for an employee record: every sensitive field Kombo may send, with a traceable value. */
export const sensitiveEmployeeFields: Record<string, unknown> = {
  ssn: 'SSN-TRACE-4711-0815',
  tax_id: 'TAXID-TRACE-99887766',
  personal_email: 'trace.personal@private-mail.test',
  mobile_phone_number: '+49 151 TRACE 5550199',
  date_of_birth: '1971-07-13T00:00:00.000Z',
  gender: 'GENDER-TRACE',
  ethnicity: 'ETHNICITY-TRACE',
  marital_status: 'MARITAL-TRACE',
  weekly_hours: 37.123,
  home_address: { street_1: 'Tracestraße 42', street_2: null, city: 'Homecity-Trace', state: null, zip_code: '99999', country: 'DE', raw: 'Tracestraße 42, 99999 Homecity-Trace' },
  bank_accounts: [{ iban: 'DE00 TRACE 0000 1111 2222', bic: 'TRACEDEFFXXX', account_number: 'ACCT-TRACE-1', holder_name: 'Holder-Trace', bank_name: 'Bank-Trace', domestic_bank_routing: { number: 'ROUTING-TRACE', type: 'DE_BANKLEITZAHL' } }],
  employments: [
    {
      id: 'employment-trace',
      remote_id: 'EMPLOYMENT-TRACE',
      employee_id: 'x',
      job_title: 'Engineer',
      pay_rate: 987654.321,
      pay_period: 'YEAR',
      pay_frequency: 'MONTHLY',
      pay_currency: 'XTS',
      employment_type: 'FULL_TIME',
      effective_date: '2020-01-01T00:00:00.000Z',
      changed_at: '2020-01-01T00:00:00.000Z',
      remote_deleted_at: null,
      custom_fields: { salary_band: 'BAND-TRACE' },
    },
  ],
  time_off_balances: [{ id: 'balance-trace', remote_id: null, employee_id: 'x', type_id: 't', balance: 12.345, balance_unit: 'DAYS', used: 1, used_unit: 'DAYS', changed_at: '2020-01-01T00:00:00.000Z', remote_deleted_at: null }],
  integration_fields: [{ id: 'if-trace', key: 'INTEGRATION-FIELD-TRACE', value: 'x' }],
  some_field_kombo_adds_later: 'FUTURE-FIELD-TRACE',
}

/** Each sensitive value: long and distinctive, so it cannot turn up by chance (e.g. in ciphertext). */
export const sensitiveValues: readonly string[] = [
  'SSN-TRACE',
  'TAXID-TRACE',
  'trace.personal@private-mail.test',
  'TRACE 5550199',
  '1971-07-13',
  'GENDER-TRACE',
  'ETHNICITY-TRACE',
  'MARITAL-TRACE',
  '37.123',
  'Tracestraße',
  'Homecity-Trace',
  'DE00 TRACE',
  'TRACEDEFF',
  'Holder-Trace',
  'ROUTING-TRACE',
  'EMPLOYMENT-TRACE',
  '987654.321',
  'BAND-TRACE',
  'balance-trace',
  'INTEGRATION-FIELD-TRACE',
  'FUTURE-FIELD-TRACE',
]

/** Each sensitive field name: found as a JSON key (`"ssn":`, or `\"ssn\":` inside JSON in JSON), it was kept, even if null. */
export const sensitiveKeys: readonly string[] = [
  'ssn',
  'tax_id',
  'personal_email',
  'mobile_phone_number',
  'date_of_birth',
  'gender',
  'ethnicity',
  'marital_status',
  'home_address',
  'bank_accounts',
  'employments',
  'pay_rate',
  'pay_period',
  'pay_currency',
  'time_off_balances',
  'weekly_hours',
  'integration_fields',
  'some_field_kombo_adds_later',
]

/** The sensitive values and keys found in `text` (empty when none). */
export function tracesIn(text: string): string[] {
  const values = sensitiveValues.filter((v) => text.includes(v))
  const keys = sensitiveKeys.filter((k) => new RegExp(`"${k}\\\\*"\\s*:`).test(text))
  return [...values, ...keys.map((k) => `key ${k}`)]
}
