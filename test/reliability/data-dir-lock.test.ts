// Two `kombo-sync all` processes on one DATA_DIR: the second must stop at start, naming the first,
// instead of opening (and corrupting) the embedded database; after a kill -9 the lock is stale and
// a restart takes it over.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startChildService, ChildStartError } from '../support/child-service.ts'
import { recordTrial } from '../support/reliability-log.ts'

const test = 'test/reliability/data-dir-lock.test.ts'

t.test('a second `all` on the same DATA_DIR stops at start; after kill -9 the stale lock is taken over', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kombo-sync-lock-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const env = { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', SIMULATOR_EMPLOYEES: '20', SIMULATOR_CHURN_PER_SECOND: '0', DEMO_API_TOKEN: 'lock-test-token-0123456789' }
  const first = await startChildService(env)
  t.teardown(() => first.kill9())
  const second = await startChildService({ ...env }).then(
    async (s) => {
      await s.kill9()
      return null
    },
    (err: unknown) => err,
  )
  t.type(second, ChildStartError, 'the second process did not start')
  t.match((second as ChildStartError).output, new RegExp(`in use by another kombo-sync process \\(pid ${first.proc.pid} `), 'its message names the other pid')
  const users = await fetch(`${first.url}/v1/tenants/demo/users?limit=1`, { headers: { authorization: 'Bearer lock-test-token-0123456789' } })
  t.equal(users.status, 200, 'the first process still serves')
  await first.kill9()
  const third = await startChildService(env)
  t.teardown(() => third.kill9())
  t.ok(third.url, 'after kill -9 of the holder, a new process takes the stale lock over and starts')
  await third.stop()
  recordTrial({ fault: 'a second `kombo-sync all` started on the same DATA_DIR; then the holder killed -9 and restarted', area: 'deployment', mode: 'embedded', times: 1, outcome: 'the second process stopped at start naming the holder pid; the first kept serving; the stale lock was taken over on restart', lost: 'nothing (the embedded database was never opened twice)', test, passed: t.passing() })
})
