// Every reliability test appends what it tried to a JSON-lines file, so docs/reliability.md is
// generated from what actually ran (scripts/reliability-report.ts), not written by hand.
import { appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface ReliabilityTrial {
  /** The fault or bad input, e.g. "kill -9 during the initial sync". */
  fault: string
  /** Which stage or part of the system it hit (upstream, delivery, process, dead letters, secrets). */
  area: string
  /** embedded | production */
  mode: 'embedded' | 'production'
  /** How many times it was applied in this run. */
  times: number
  /** What the test checked it ended in: retried, dead-lettered, tenant failing, recovered … */
  outcome: string
  /** What was lost or duplicated; "nothing" when the test's assertions passed. */
  lost: string
  /** The test file that tried it. */
  test: string
}

/** RELIABILITY_LOG names the file; by default one fixed file in the temp directory. */
export const reliabilityLogPath = (): string => process.env.RELIABILITY_LOG ?? join(tmpdir(), 'kombo-sync-reliability.jsonl')

/** Appends one row. Call it after the assertions that back the row's claim ran. */
export function recordTrial(trial: ReliabilityTrial & { passed: boolean }): void {
  const row = { ...trial, lost: trial.passed ? trial.lost : `ASSERTIONS FAILED: ${trial.lost}`, at: new Date().toISOString() }
  appendFileSync(reliabilityLogPath(), JSON.stringify(row) + '\n')
}
