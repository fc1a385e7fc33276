// A preload for the role children of bench/roles.ts that logs, each second, process.memoryUsage()
// and V8's heap spaces (used and committed MB) as one JSON line to
// <tmpdir>/kombo-sync-memlog/<role>-<pid>.jsonl, and the exit. Used for
// docs/notes/memory-2026-12-06.md (there written to /tmp/memlog by the same code):
//   BENCH_CHILD_NODE_OPTIONS="--import=$PWD/bench/memory-log-preload.mjs" npx tsx bench/run.ts --only role-memory --sizes 10000 --no-write
import { appendFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import v8 from 'node:v8'

const dir = `${tmpdir()}/kombo-sync-memlog`
mkdirSync(dir, { recursive: true })
const role = process.argv[process.argv.length - 1]
const file = `${dir}/${role}-${process.pid}.jsonl`
const t0 = Date.now()
const mb = (n) => Math.round(n / 1048576)
setInterval(() => {
  const m = process.memoryUsage()
  const stats = v8.getHeapSpaceStatistics()
  const spaces = Object.fromEntries(stats.map((s) => [s.space_name, mb(s.space_used_size)]))
  const committed = Object.fromEntries(stats.map((s) => [s.space_name, mb(s.space_size)]))
  const line = { t: Math.round((Date.now() - t0) / 1000), rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), ab: mb(m.arrayBuffers), spaces, committed }
  appendFileSync(file, JSON.stringify(line) + '\n')
}, 1000).unref()
process.on('exit', (code) => appendFileSync(file, JSON.stringify({ exit: code }) + '\n'))
