// Where the embedded pipeline's SQL time goes: runs one embedded initial sync with every PGlite
// protocol call counted and timed per statement (the statement's text up to its first
// parameter-dependent part), then prints the statements by total time. A profiling aid, not a
// row of `npm run bench`: PGlite is most of the CPU (see docs/benchmarks.md), so the number and
// kind of statements is what to look at. Usage: `node --import tsx bench/statement-counts.ts 2000`.
import { PGlite } from '@electric-sql/pglite'
import { measureInitialSync } from './initial-sync.ts'

interface Stat {
  count: number
  ms: number
}
const stats = new Map<string, Stat>()
const lastParsed = new WeakMap<PGlite, string>()

/** The SQL of a Parse ('P') or simple Query ('Q') message, else null (Bind, Execute, Sync …). */
function statementOf(message: Uint8Array): string | null {
  const kind = String.fromCharCode(message[0])
  if (kind !== 'P' && kind !== 'Q') return null
  let at = 5
  if (kind === 'P') while (message[at] !== 0) at++ // the statement's name
  if (kind === 'P') at++
  let end = at
  while (end < message.length && message[end] !== 0) end++
  return Buffer.from(message.subarray(at, end)).toString('utf8')
}

const shape = (sql: string) => sql.replace(/\s+/g, ' ').replace(/\(\$\d+.*$/, '(…').replace(/VALUES .*/, 'VALUES …').slice(0, 110)

type Exec = (this: PGlite, message: Uint8Array, options?: unknown) => Promise<unknown>
const proto = PGlite.prototype as unknown as Record<'execProtocol' | 'execProtocolStream', Exec>
for (const name of ['execProtocol', 'execProtocolStream'] as const) {
  const original = proto[name]
  proto[name] = async function (this: PGlite, message: Uint8Array, options?: unknown) {
    // PGlite sends a parameterised query as Parse/Describe, then Bind/Execute/Sync in a second
    // call: the later calls (where the statement runs) count for the statement last parsed.
    const parsed = statementOf(message)
    if (parsed !== null) lastParsed.set(this, parsed)
    const sql = parsed ?? lastParsed.get(this) ?? null
    const started = performance.now()
    try {
      return await original.call(this, message, options)
    } finally {
      if (sql !== null) {
        const key = shape(sql)
        const s = stats.get(key) ?? { count: 0, ms: 0 }
        if (parsed !== null) s.count++
        s.ms += performance.now() - started
        stats.set(key, s)
      }
    }
  }
}

const employees = Number(process.argv[2] ?? 2000)
const result = await measureInitialSync(employees)
const total = [...stats.values()].reduce((a, s) => a + s.ms, 0)
console.log(`${employees} employees: ${result.records} records → ${result.events} events, visible after ${(result.visibleMs / 1000).toFixed(1)} s; SQL ${(total / 1000).toFixed(1)} s in ${[...stats.values()].reduce((a, s) => a + s.count, 0)} statements`)
for (const [sql, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  console.log(`${(s.ms / 1000).toFixed(2).padStart(7)} s ${String(s.count).padStart(7)}× ${sql}`)
}
