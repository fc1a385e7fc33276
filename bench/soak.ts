// The chaos soak (scripts/soak.ts) as a bench row: `npm run bench -- --only soak` (10 minutes) and
// `--full`; never in the default or --quick plans (it takes a quarter of an hour). The value is the
// change rate the churn reached against the one asked for; the note gives the counts the soak
// compared: users, events, faults, feed events, what was lost and what was duplicated.
import { runSoak } from '../scripts/soak.ts'
import { peakRssMb, type ResultRow } from './report.ts'

export async function benchSoak(options: { minutes: number; seed?: number; changesPerSecond?: number }): Promise<ResultRow[]> {
  const seed = options.seed ?? Date.now() % 100_000
  const report = await runSoak({
    durationMs: options.minutes * 60_000,
    seed,
    employees: 60,
    changesPerSecond: options.changesPerSecond ?? 50,
    faultGapMs: [3000, 12000],
    quiesceTimeoutMs: 300_000,
    log: (line) => process.stderr.write(`bench: soak: ${line}\n`),
  })
  const lost = report.lostCount + report.feed.gaps
  const duplicated = report.duplicatedCount
  // A failed soak says what it found, not only how much.
  if (!report.ok) for (const line of [...report.lost, ...report.duplicated, ...report.feed.problems].slice(0, 20)) process.stderr.write(`bench: soak: ${line.slice(0, 600)}\n`)
  return [
    {
      benchmark: 'soak',
      scenario: `${report.minutes} min of faults, ${report.tenants} companies, seed ${seed}`,
      value: report.achievedRate,
      unit: 'changes/s',
      baseline: { label: 'asked', value: report.requestedRate, unit: 'changes/s' },
      peakRssMb: peakRssMb(),
      note:
        `${report.ok ? 'ok' : 'FAILED'}: ${report.users} users, ${report.events} events, ${report.faultCount} faults, ` +
        `${report.feed.feedEvents} feed events (${report.feed.redeliveries} redeliveries dropped), lost ${lost} ` +
        `(${report.lostCount} users, ${report.feed.gaps} feed events), duplicated ${duplicated}, feed mismatches ${report.feed.mismatches}, ` +
        `quiet after ${Math.round(report.quiescedInMs / 1000)} s`,
    },
  ]
}
