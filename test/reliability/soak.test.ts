// The chaos soak's short variant (scripts/soak.ts): the same roles, faults and comparison as the
// 10-minute run (the views, the streams and the user feed read back from its topic), for long
// enough to draw several faults, at 10 changes/s rather than 50 to stay short, so `npm test` keeps
// the soak working.
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
    changesPerSecond: 10,
    faultGapMs: [1000, 4000],
    quiesceTimeoutMs: 240_000,
    log: (line) => t.comment(line),
  })
  t.ok(report.faultCount > 0, `${report.faultCount} faults injected (${JSON.stringify(report.faults)})`)
  t.ok(report.changesMade > 0, `the companies changed meanwhile: ${report.changesMade} changes, ${report.achievedRate}/s of ${report.requestedRate}/s asked (${JSON.stringify(report.changes)})`)
  t.same(report.lost, [], 'every employee is a user with the fields of a clean sync')
  t.same(report.duplicated, [], 'every event id once; every stream without a gap or repeat')
  t.equal(report.users, report.employees, `${report.employees} employees, ${report.users} users in the clean sync`)
  // The feed read back from its topic: every event the streams imply, each user's last state as a clean replay's.
  t.ok(report.feed.feedEvents > 0 && report.feed.users === report.users, `${report.feed.feedEvents} feed events for ${report.feed.users} users (${report.users} users)`)
  t.equal(report.feed.undecodable, 0, 'every feed value decodes against its registered schema')
  t.same(report.feed.problems, [], `no feed event missing, none out of order, every last state as the clean replay's (${report.feed.redeliveries} redeliveries dropped)`)
  t.equal(report.feed.gaps, 0, 'no gap in any user\'s feed')
  t.equal(report.feed.mismatches, 0, 'no feed mismatch')
  t.ok(report.ok, report.summary)
  recordTrial({
    area: 'chaos soak',
    fault: `short soak: ${Object.entries(report.faults).map(([k, n]) => `${k} ×${n}`).join(', ')} while ${report.tenants} companies changed`,
    mode: 'production',
    times: report.faultCount,
    outcome: `quiet ${Math.round(report.quiescedInMs / 1000)} s after the faults stopped; ${report.summary}`,
    lost: `nothing; no duplicate; feed: ${report.feed.feedEvents} events, ${report.feed.redeliveries} redeliveries dropped, ${report.feed.gaps} missing`,
    test: 'test/reliability/soak.test.ts',
    passed: t.passing(),
  })
})
