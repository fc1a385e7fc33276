// The api role's memory while a whole company is listed through its view cache, without the rest of
// the pipeline: a throw-away PostgreSQL views database filled with N users (~1.5 KB of JSON each,
// as the simulator's employees map to), then, for each variant, a child process that lists every
// user twice page by page (limit 200, as bench/roles.ts's watcher does through the api process)
// through cachedViewResponses, and reports its VmHWM before and after. The variants are the view
// cache's char bound and the role's old-space cap (runtime/roles/heap-limits.ts).
//
//   npx tsx bench/api-listing-memory.ts --users 100000 [--variants 33554432:0,16777216:0,16777216:128]
//
// Not part of `npm run bench`: a probe for docs/notes/memory-2026-12-06.md.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { openPostgresDatabase } from '../sql/postgres.ts'
import { openSqlViewStore } from '../projections/viewstore/sql.ts'
import { cachedViewResponses } from '../api/view-cache.ts'
import type { LearnAmpUser } from '../schemas/learnamp.ts'
import { aLearnAmpUser } from '../test/support/learn-amp-user.ts'

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const vmHwmMb = () => Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024)

const userOf = (i: number): LearnAmpUser => {
  const externalId = `e${String(i).padStart(7, '0')}`
  return aLearnAmpUser(externalId, {
    remoteId: `r${i}`,
    employeeNumber: String(i),
    lastName: `Lovelace ${i}`,
    jobTitle: 'Engineer '.repeat(120),
    email: `e${i}@acme.test`,
  })
}

async function fill(url: string, users: number): Promise<void> {
  const db = await openPostgresDatabase(url)
  try {
    const views = await openSqlViewStore(db)
    const index = { teamIds: [], locationId: null, managerId: null }
    for (let i = 0; i < users; i += 2000) {
      const batch = Array.from({ length: Math.min(2000, users - i) }, (_, k) => ({ user: userOf(i + k), index }))
      await views.transaction((tx) => tx.upsertUsers('demo', batch))
    }
  } finally {
    await db.close()
  }
}

/** In the child: every user listed twice through the cache; prints one JSON line. */
async function list(url: string, maxChars: number): Promise<void> {
  const db = await openPostgresDatabase(url)
  const responses = cachedViewResponses(await openSqlViewStore(db), { maxChars })
  await new Promise((r) => setTimeout(r, 500))
  const before = vmHwmMb()
  const started = performance.now()
  let users = 0
  for (let pass = 0; pass < 2; pass++) {
    let cursor: string | undefined
    do {
      const page = JSON.parse((await responses.listUsers('demo', { limit: 200, cursor })).json) as { data: unknown[]; next: string | null }
      users += page.data.length
      cursor = page.next ?? undefined
    } while (cursor)
  }
  const seconds = (performance.now() - started) / 1000
  console.log(JSON.stringify({ users, seconds: Number(seconds.toFixed(1)), vmHwmBeforeMb: before, vmHwmMb: vmHwmMb(), held: responses.held?.() }))
  responses.close()
  await db.close()
}

function variant(url: string, maxChars: number, capMb: number): Promise<string> {
  const flags = capMb > 0 ? [`--max-old-space-size=${capMb}`] : []
  const args = [...flags, '--import', 'tsx', fileURLToPath(import.meta.url), '--list', url, '--max-chars', String(maxChars)]
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out.trim().split('\n').at(-1) ?? ''))),
  )
}

const { values } = parseArgs({ options: { users: { type: 'string' }, variants: { type: 'string' }, list: { type: 'string' }, 'max-chars': { type: 'string' } } })
if (values.list) {
  await list(values.list, Number(values['max-chars']))
} else {
  const users = Number(values.users ?? 10_000)
  const variants = (values.variants ?? '33554432:0,16777216:0,16777216:128').split(',').map((v) => v.split(':').map(Number))
  // Imported here only: the listing child must not load the Kafka stack's code (it would count in its VmHWM).
  const { throwawayDatabase } = await import('./production.ts')
  const db = await throwawayDatabase(ADMIN_URL)
  try {
    await fill(db.url, users)
    for (const [maxChars, capMb] of variants) {
      console.log(`${users} users, view cache ${maxChars} chars, old space ${capMb > 0 ? `${capMb} MB` : 'uncapped'}: ${await variant(db.url, maxChars, capMb)}`)
    }
  } finally {
    await db.drop()
  }
}
