// The chaos soak's short variant (scripts/soak.ts): the same roles, faults and comparison as the
// 10-minute run, for long enough to draw several faults, so `npm test` keeps the soak working.
// SOAK_TEST_SECONDS / SOAK_TEST_SEED to lengthen or repeat it.
import t from 'tap'
import { runSoak } from '../../scripts/soak.ts'
import { recordTrial } from '../support/reliability-log.ts'

const seconds = Number(process.env.SOAK_TEST_SECONDS ?? 40)
const seed = Number(process.env.SOAK_TEST_SEED ?? Date.now() % 100_000)

t.test(`chaos soak, short variant (${seconds} s of faults, seed ${seed})`, async (t) => {
  const report = await runSoak({
    durationMs: seconds * 1000,
    seed,
    employees: 20,
    changesPerSecond: 4,
    faultGapMs: [1000, 4000],
    quiesceTimeoutMs: 240_000,
    log: (line) => t.comment(line),
  })
  t.ok(report.faultCount > 0, `${report.faultCount} faults injected (${JSON.stringify(report.faults)})`)
  t.ok(Object.values(report.changes).reduce((a, b) => a + b, 0) > 0, `the companies changed meanwhile (${JSON.stringify(report.changes)})`)
  t.same(report.lost, [], 'every employee is a user with the fields of a clean sync')
  t.same(report.duplicated, [], 'every event id once; every stream without a gap or repeat')
  t.equal(report.users, report.employees, `${report.employees} employees, ${report.users} users in the clean sync`)
  t.ok(report.ok, report.summary)
  recordTrial({
    area: 'chaos soak',
    fault: `short soak: ${Object.entries(report.faults).map(([k, n]) => `${k} ×${n}`).join(', ')} while ${report.tenants} companies changed`,
    mode: 'production',
    times: report.faultCount,
    outcome: `quiet ${Math.round(report.quiescedInMs / 1000)} s after the faults stopped; ${report.summary}`,
    lost: 'nothing; no duplicate',
    test: 'test/reliability/soak.test.ts',
    passed: t.passing(),
  })
})
