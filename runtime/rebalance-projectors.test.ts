// `kombo-sync rebalance-projectors --from N --to M`: the arguments are checked before anything is
// touched, and the command moves the checkpoints as projections/rebalance.ts does — here from one
// projector to two shards over a store one projector has folded, then through the real binary.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseRebalanceArgs, rebalanceProjectors } from './rebalance-projectors.ts'
import { openPgliteDatabase } from '../sql/pglite.ts'
import { openSqlEventStore } from '../processors/eventstore/sql.ts'
import { openSqlDeadLetterStore } from '../producers/changelog/sql-dead-letters.ts'
import { openSqlViewStore } from '../projections/viewstore/sql.ts'
import { Projector } from '../projections/projector.ts'
import { projectedStreamPrefixes, VIEWS_CHECKPOINT } from '../projections/projection.ts'
import { shardCheckpointName } from '../projections/shard.ts'
import { utcEverywhere } from '../projections/apply-events.ts'
import { processChanges } from '../processors/process-changes.ts'
import { SimulatedCompany } from '../simulator/index.ts'
import { komboResources } from '../schemas/kombo.ts'
import { changeKey } from '../schemas/envelope.ts'
import type { ConsumedChange } from '../producers/changelog/port.ts'
import { settingsWith } from '../test/support/tenant-settings.ts'
import { capturedLogger } from '../test/support/captured-logger.ts'

const now = new Date('2026-03-01T12:00:00.000Z')

t.test('arguments: two shard counts, different, 1..1024; anything else is a usage error naming the problem', async (t) => {
  t.same(parseRebalanceArgs(['--from', '2', '--to', '4']), { from: 2, to: 4 })
  t.same(parseRebalanceArgs(['--to', '1', '--from', '3']), { from: 3, to: 1 })
  const refused: Array<[string[], RegExp]> = [
    [[], /--from is missing/],
    [['--from', '2'], /--to is missing/],
    [['--from', '0', '--to', '2'], /--from takes a shard count from 1 to 1024, got "0"/],
    [['--from', '2', '--to', 'x'], /--to takes a shard count/],
    [['--from', '2', '--to', '2000'], /--to takes a shard count/],
    [['--from', '2', '--to', '2'], /nothing to move/],
    [['--from', '2', '--to', '3', '--force'], /unexpected argument "--force"/],
    [['--from', '2', '--to', '3', 'extra'], /unexpected argument "extra"/],
  ]
  for (const [args, message] of refused) t.throws(() => parseRebalanceArgs(args), { name: 'UsageError', message }, args.join(' ') || '(none)')
})

t.test('one projector → two shards: both new checkpoints start where the lone one stood, which is removed', async (t) => {
  const db = await openPgliteDatabase()
  t.teardown(() => db.close())
  const store = await openSqlEventStore(db)
  const deadLetters = await openSqlDeadLetterStore(db)
  const views = await openSqlViewStore(db)
  let offset = 0
  for (const tenant of ['acme', 'globex', 'initech']) {
    const company = new SimulatedCompany(7, { employees: 5, teams: 2, locations: 1 }, () => now)
    for (const resource of [...komboResources].sort((a) => (a === 'employees' ? 1 : -1))) {
      for (const record of company.list(resource, { includeDeleted: true })) {
        const value = { tenant, integrationId: 'test', resource, fetchedAt: now.toISOString(), pollId: 'test', record }
        const change = { resource, key: changeKey(tenant, record.id), partition: 0, offset: String(offset++), value, raw: Buffer.from(JSON.stringify(value)) } as ConsumedChange
        await processChanges([change], { store, deadLetters, tenantSettingsOf: () => settingsWith({ mode: 'on_start_date', daysBefore: 7 }), now: () => now })
      }
    }
  }
  const all = await store.readAll({ streamPrefixes: projectedStreamPrefixes })
  const last = all[all.length - 1].position
  const projector = new Projector({ store, views })
  await projector.start()
  await projector.caughtUp(last)
  await projector.stop()

  const { logger, lines } = capturedLogger()
  const result = await rebalanceProjectors(['--from', '1', '--to', '2'], { eventStore: store, views }, utcEverywhere, logger)
  t.equal(result.position, last, 'the barrier is the lone projector’s position')
  t.equal(result.caughtUp, 0, 'nothing to catch up: one old shard')
  for (const index of [0, 1]) t.equal(await views.checkpoint(shardCheckpointName(VIEWS_CHECKPOINT, { index, count: 2 })), last, `shard ${index}/2 starts there`)
  t.equal(await views.checkpoint(VIEWS_CHECKPOINT), null, 'the lone checkpoint is gone')
  t.ok(lines.some((l) => l.msg === 'projector shards rebalanced' && l.position === last.toString()), 'logged with the position')
})

t.test('the binary: `kombo-sync rebalance-projectors` on the embedded default, and a usage error exits 2', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kombo-rebalance-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'bin/kombo-sync.ts', 'rebalance-projectors', ...args], {
      cwd: new URL('..', import.meta.url).pathname,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, LOG_FORMAT: 'json' },
      encoding: 'utf8',
      timeout: 120_000,
    })
  const bad = run('--from', '2')
  t.equal(bad.status, 2, 'usage error → exit 2')
  t.match(bad.stderr, /--to is missing; usage: kombo-sync rebalance-projectors --from N --to M/)
  const ok = run('--from', '1', '--to', '3')
  t.equal(ok.status, 0, `exit 0 (stderr: ${ok.stderr.slice(-400)})`)
  // Log lines (JSON, with a level) share stdout with the result line.
  const result = ok.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => !('level' in l))
  t.same(result, [{ from: 1, to: 3, position: null, caughtUp: 0 }], 'an empty store: nothing to move, printed as one JSON line')
})
