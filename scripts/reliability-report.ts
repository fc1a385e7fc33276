// Generates docs/reliability.md in one run: runs the reliability regression tests (each appends
// what it tried as a JSON line, see test/support/reliability-log.ts), records which numbered item
// of issue 12 each file backs and whether it passed, and adds the chaos soak's and the load run's
// reports (docs/soak-report.json, docs/load-report.json and docs/load-report-postgres.json, written
// by scripts/soak.ts and scripts/soak-load.ts). Nothing on the page is merged by hand.
//   nice -n 10 npx tsx scripts/reliability-report.ts --run > docs/reliability.md
//   npx tsx scripts/reliability-report.ts [LOG] > docs/reliability.md   (rows of an earlier run)
//   npx tsx scripts/reliability-report.ts --outcomes npm-test.log --since 2026-12-02T00:22:00Z > docs/reliability.md
//                                    (outcomes and rows of an `npm test` run: every reliability file runs there)
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Issue 12's numbered items and beyond, with the regression test files that back each. */
const ITEMS: Array<{ item: string; what: string; tests: string[] }> = [
  { item: '1', what: 'two processes on one DATA_DIR', tests: ['test/reliability/data-dir-lock.test.ts'] },
  { item: '2', what: 'a changed_at in the future moves the watermark', tests: ['test/reliability/poller-edge.test.ts'] },
  { item: '3', what: 'records that validate but cannot be stored (poison)', tests: ['test/reliability/poller-edge.test.ts', 'runtime/roles/poison-records.test.ts'] },
  { item: '4', what: 'terminated PostgreSQL connections crash the process', tests: ['test/reliability/postgres-connections.test.ts', 'test/reliability/production-roles.test.ts'] },
  { item: '5', what: 'a cursor that loops, endless empty pages', tests: ['test/reliability/poller-edge.test.ts'] },
  { item: '6', what: 'dead letters repeated on every poll; no pagination', tests: ['test/reliability/dead-letter-dedupe.test.ts', 'test/reliability/dead-letters.test.ts'] },
  { item: '7', what: 'no bound on an upstream response', tests: ['test/reliability/poller-edge.test.ts'] },
  { item: '8', what: 'NUL / lone surrogates in API input; erasure not atomic', tests: ['test/reliability/api-input.test.ts', 'processors/commands/erase-employee.test.ts'] },
  { item: '9', what: 'error shapes outside the documented one', tests: ['test/reliability/api-input.test.ts'] },
  { item: 'race', what: 'erasure against an in-flight projector batch', tests: ['test/reliability/erasure-race.test.ts'] },
  { item: 'race', what: 'erasure against an in-flight user-feed batch', tests: ['test/reliability/feed-erasure-race.test.ts'] },
  { item: 'load', what: 'API reads queued behind the sync\'s transactions on the embedded database', tests: ['sql/embedded-turns.test.ts'] },
  { item: 'soak', what: 'chaos soak (short variant)', tests: ['test/reliability/soak.test.ts'] },
]

const args = process.argv.slice(2)
const run = args.includes('--run')
/** `--option value` pairs: `--outcomes TAPLOG` reads the files' outcomes from an earlier run's TAP output (e.g. `npm test`'s), `--since ISO` keeps only the log rows written since. */
const option = (name: string): string | undefined => {
  const at = args.indexOf(name)
  return at >= 0 ? args[at + 1] : undefined
}
const outcomesLog = option('--outcomes')
const since = option('--since')
const valued = new Set([outcomesLog, since])
const path = args.find((a) => !a.startsWith('--') && !valued.has(a)) ?? process.env.RELIABILITY_LOG ?? join(tmpdir(), 'kombo-sync-reliability.jsonl')

/** Runs every file of ITEMS and the other reliability tests with a fresh log; each file's ok / not ok. */
function runTests(): Map<string, boolean> {
  rmSync(path, { force: true })
  const dir = spawnSync('ls', ['test/reliability'], { encoding: 'utf8' }).stdout.split('\n').filter((f) => f.endsWith('.test.ts')).map((f) => `test/reliability/${f}`)
  const files = [...new Set([...ITEMS.flatMap((i) => i.tests), ...dir])]
  const tap = spawnSync('npx', ['tap', '--reporter=tap', ...files], { encoding: 'utf8', env: { ...process.env, RELIABILITY_LOG: path }, maxBuffer: 1 << 28 })
  process.stderr.write(tap.stdout.split('\n').filter((l) => /^(not )?ok /.test(l)).join('\n') + '\n')
  return outcomesIn(tap.stdout)
}

/** Each test file's top-level `ok N - file` / `not ok N - file` line of a TAP stream. */
function outcomesIn(tapOutput: string): Map<string, boolean> {
  const outcome = new Map<string, boolean>()
  for (const m of tapOutput.matchAll(/^(not ok|ok) \d+ - (\S+)/gm)) outcome.set(m[2], m[1] === 'ok')
  return outcome
}
const outcomes = run ? runTests() : outcomesLog ? outcomesIn(readFileSync(outcomesLog, 'utf8')) : null

const readJson = (file: string): any => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null)
const soak = readJson('docs/soak-report.json')
const loads = [
  { file: 'docs/load-report.json', report: readJson('docs/load-report.json') },
  { file: 'docs/load-report-postgres.json', report: readJson('docs/load-report-postgres.json') },
]

interface Row {
  fault: string
  area: string
  mode: string
  times: number
  outcome: string
  lost: string
  test: string
  at: string
}

const rows = readFileSync(path, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Row)
  .filter((r) => since === undefined || r.at >= since)

// Several runs of the same trial add up; the newest outcome and loss are shown.
const merged = new Map<string, Row>()
for (const r of rows) {
  const key = `${r.area}|${r.fault}|${r.mode}`
  const seen = merged.get(key)
  merged.set(key, seen ? { ...r, times: seen.times + r.times } : r)
}
const cell = (s: string | number) => String(s).replaceAll('|', '\\|').replaceAll('\n', ' ')
const sorted = [...merged.values()].sort((a, b) => a.area.localeCompare(b.area) || a.fault.localeCompare(b.fault))
const failed = sorted.filter((r) => r.lost.startsWith('ASSERTIONS FAILED'))
const runs = rows.map((r) => r.at).sort()

process.stdout.write(`# Reliability: faults and bad input tried

Generated by \`scripts/reliability-report.ts\` from one run of the regression tests (each appends
the rows of what it tried, \`test/support/reliability-log.ts\`) and the reports of the chaos soak
and the load run; do not edit by hand. Regenerate:

\`\`\`sh
nice -n 10 npm run soak -- --minutes 10 --report docs/soak-report.json
nice -n 10 npx tsx scripts/soak-load.ts --minutes 10 --report docs/load-report.json
nice -n 10 npx tsx scripts/soak-load.ts --minutes 10 --postgres --report docs/load-report-postgres.json
nice -n 10 npx tsx scripts/reliability-report.ts --run > docs/reliability.md
# or from a whole \`npm test\` run (every reliability file runs there):
npm test > npm-test.log; npx tsx scripts/reliability-report.ts --outcomes npm-test.log --since <its start> > docs/reliability.md
\`\`\`

## Issue 12's items and their regression tests

${itemsTable()}

## The chaos soak

${soakSection()}

## The read API under load during a sync

${loads.map(({ file, report }) => loadSection(file, report)).join('\n\n')}

## Every fault and bad input tried

Rows from ${runs[0]} to ${runs[runs.length - 1]}. ${failed.length === 0 ? 'Every row passed its assertions: nothing was lost.' : `**${failed.length} row(s) failed their assertions.**`}
"Lost" is what the test's assertions would have caught: events or users differing from an
uninterrupted run, a change missing, an event twice, a secret in the output.

| area | fault or bad input | mode | times | ended in | lost | test |
| --- | --- | --- | ---: | --- | --- | --- |
${sorted.map((r) => `| ${cell(r.area)} | ${cell(r.fault)} | ${cell(r.mode)} | ${r.times} | ${cell(r.outcome)} | ${cell(r.lost)} | \`${cell(r.test)}\` |`).join('\n')}

Not covered here yet: duplicated/reordered Kafka messages injected by hand (redelivery is covered
through restarts), and a real EventStoreDB server (the adapter runs on the gRPC double unless
EVENTSTORE_CONNECTION_STRING is set). In production mode each role is killed once per run by
default (RELIABILITY_ROLE_KILLS=N for more rounds, RELIABILITY_SEED to repeat the kill points).
`)

function itemsTable(): string {
  const result = (file: string) => (outcomes === null ? 'not run here' : outcomes.get(file) === undefined ? 'no result' : outcomes.get(file) ? 'passed' : '**failed**')
  const rowsOf = (file: string) => rows.filter((r) => r.test === file).length
  return ['| item | what | regression test | outcome | rows |', '| --- | --- | --- | --- | ---: |']
    .concat(ITEMS.flatMap((i) => i.tests.map((f) => `| ${i.item} | ${cell(i.what)} | \`${f}\` | ${result(f)} | ${rowsOf(f)} |`)))
    .join('\n') + (outcomes === null ? '\n\n(Outcomes are filled in by \`--run\` or \`--outcomes TAPLOG\`.)' : `\n\nOutcomes of ${outcomesLog ? `the test run whose TAP output is \`${outcomesLog.split('/').pop()}\`` : 'the run that generated this page'} (page generated ${new Date().toISOString()}).`)
}

function soakSection(): string {
  if (!soak) return 'No soak report (docs/soak-report.json) yet.'
  const faults = Object.entries(soak.faults as Record<string, number>).map(([k, n]) => `${k} ×${n}`).join(', ')
  const changes = Object.entries(soak.changes as Record<string, number>).map(([k, n]) => `${k} ${n}`).join(', ')
  return [
    `\`scripts/soak.ts\` (seed ${soak.seed}, ${soak.minutes} minutes of faults, ${soak.tenants} companies; run ${soak.at}): **${soak.summary}**.`,
    '',
    `- Faults (${soak.faultCount}): ${faults}.`,
    `- Changes made meanwhile: ${changes}.`,
    `- Quiet ${Math.round(soak.quiescedInMs / 1000)} s after the faults stopped; ${soak.users} users in the clean sync for ${soak.employees} employees; ${soak.events} events in ${soak.streams} streams.`,
    `- Lost or different users: ${soak.lost.length === 0 ? 'none' : soak.lost.slice(0, 5).join('; ')}. Duplicates or gaps: ${soak.duplicated.length === 0 ? 'none' : soak.duplicated.slice(0, 5).join('; ')}.`,
    ...(soak.achievedRate !== undefined
      ? [`- Churn: ${soak.changesMade} changes in ${soak.churnSeconds} s, ${soak.achievedRate} changes/s of ${soak.requestedRate} asked; the machine's 1-minute load average meanwhile ${soak.loadAverage?.first} at the start, ${soak.loadAverage?.max} at most, ${soak.loadAverage?.last} at the end (2 cores).`]
      : []),
    ...(soak.feed
      ? [
          `- The user feed (${soak.feed.topic}), read back from Kafka and decoded through the registry: ${soak.feed.feedEvents} events for ${soak.feed.users} users; ${soak.feed.redeliveries} redeliveries (the same event again, same content) dropped, leaving ${soak.feed.feedEvents - soak.feed.redeliveries} where replaying the soak's own event history through the publisher's mapping gives ${soak.feed.expectedEvents}. Gaps (an event the history implies missing, or out of order per user): ${soak.feed.gaps}; users whose last feed state differs from a clean replay of the clean sync (${soak.feed.referenceUsers} users): ${soak.feed.mismatches}; undecodable messages: ${soak.feed.undecodable}.`,
        ]
      : []),
    '- Network cuts are a user-space TCP proxy between the roles and PostgreSQL / the event store (blackholed, then reset), not `ip netns`: a Kafka client dials the address the broker advertises, so the broker is faulted by kill -9 instead.',
  ].join('\n')
}

function loadSection(file: string, load: any): string {
  if (!load) return `No load report (${file}) yet.`
  const rss = load.rssMb
  const machine = load.machineLoad ? ` Machine load average (1/5/15 min) ${load.machineLoad.atStart.join(' / ')} at the start, ${load.machineLoad.atEnd.join(' / ')} at the end.` : ''
  return [
    `### ${load.database === 'postgres' ? 'PostgreSQL' : 'Embedded database (the default)'}`,
    '',
    `\`scripts/soak-load.ts\`${load.database === 'postgres' ? ' --postgres' : ''} (${load.minutes} minutes, ${load.connections} connections, ${load.database} database, the company changing at ${load.churnPerSecond}/s; run ${load.at}; ${file}): ${load.ok ? 'no error, flat RSS, every answer checked was right' : '**not clean, see below**'}.`,
    '',
    `- ${load.requests} requests (${load.requestsPerSecond} /s on average); errors ${load.errors}, timeouts ${load.timeouts}; non-2xx ${load.non2xx}${load.notYetSynced404 === undefined ? '' : `, of which ${load.notYetSynced404} a 404 for a new hire the sync had not reached yet (a right answer) and ${load.wrongNon2xx} wrong; ${load.lost404.count} a 404 for a user the service had already listed`}.`,
    `- Latency p50 ${load.latencyMs.p50} ms, p90 ${load.latencyMs.p90} ms, p99 ${load.latencyMs.p99} ms, max ${load.latencyMs.max} ms (a shared, loaded 2-core machine: compare only with a run made at the same time).${machine}`,
    rss.end === undefined
      ? `- RSS of the service: ${rss.first} MB at the start, at most ${rss.max} MB, ${rss.last} MB at the end (${rss.samples} samples, every 10 s).`
      : `- RSS of the service: ${rss.start} MB at the start, ${rss.afterWarmUp} MB after the warm-up (${rss.afterWarmUpAtS} s), at most ${rss.max} MB, ${rss.end} MB at the end (${rss.samples} samples, every 10 s): ${rss.flat ? 'flat' : '**not flat**'} (${rss.flatMeans}).`,
    `- Answers: ${load.sampledAnswers.checked} users sampled during the load, ${load.sampledAnswers.wrong} wrong; after the load ${load.finalUsers.users} users for ${load.finalUsers.employees} employees, ${load.finalUsers.wrong} with a job title or email other than Kombo's.`,
  ].join('\n')
}
