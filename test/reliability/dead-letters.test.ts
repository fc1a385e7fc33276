// Dead letters are listable and re-drivable through the CLI and the API, tenant-scoped, and a
// re-drive after the cause is fixed makes the records flow exactly once. The cause here: records
// of a tenant this deployment did not know yet (a poller with a newer tenants file published them);
// after the tenant is added, the re-driven original bytes are processed once.
import t from 'tap'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { randomUUID } from 'node:crypto'
import { sha256 } from '../../config/config.ts'
import type { ChangeEnvelope } from '../../schemas/envelope.ts'
import { startTestSimulator, startTestService, caughtUp, apiClient, controllableClock } from '../support/e2e-story.ts'
import { recordTrial } from '../support/reliability-log.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const ACME = 'acme-token-0123456789'
const GLOBEX = 'globex-token-0123456789'
const tenant = (id: string) => ({ id, integrationId: `${id}-int`, tokenSha256: [sha256(id === 'acme' ? ACME : GLOBEX)] })

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'bin', 'kombo-sync.ts'), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
    })
    return { code: 0, stdout: r.stdout }
  } catch (err) {
    const e = err as { code: number; stdout: string }
    return { code: e.code, stdout: e.stdout }
  }
}

t.test('dead letters of an unknown tenant: listed per tenant, re-driven by CLI and API after the fix, flow exactly once', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock, 10)
  const dir = t.testdir({})
  const onlyAcme = join(dir, 'acme.json')
  const both = join(dir, 'both.json')
  writeFileSync(onlyAcme, JSON.stringify({ tenants: [tenant('acme')] }))
  writeFileSync(both, JSON.stringify({ tenants: [tenant('acme'), tenant('globex')] }))

  // 1. Records of tenant globex reach a deployment that knows only acme.
  const first = await startTestService(t, { simulator, clock, env: { TENANTS_FILE: onlyAcme } })
  const dataDir = first.dataDir
  const strangers = simulator.integration('elsewhere').list('employees').slice(0, 5)
  const envelopes = strangers.map(
    (record) => ({ tenant: 'globex', integrationId: 'globex-int', resource: 'employees', fetchedAt: clock.now().toISOString(), pollId: randomUUID(), record }) as ChangeEnvelope,
  )
  await first.service.stores.changeLog.publish(envelopes)
  await caughtUp(first.service)
  const letters = await first.service.stores.deadLetters.list()
  t.equal(letters.length, 5, 'five dead letters')
  t.ok(letters.every((l) => /unknown tenant "globex"/.test(l.reason)), 'each says the tenant is unknown')
  const acmeList = await apiClient(first.service, 'acme', ACME).get('/dead-letters')
  t.equal(acmeList.status, 200)
  t.same(acmeList.body.data, [], "acme's dead-letter list does not show globex's letters")
  t.equal((await apiClient(first.service, 'acme', ACME).post(`/dead-letters/${letters[0].id}/redrive`)).status, 404, "acme cannot re-drive globex's letter")
  await first.service.stop()

  // 2. The CLI lists them per tenant and re-drives one (the service is stopped: one process per embedded database).
  const env = { DATA_DIR: dataDir, TENANTS_FILE: both, LOG_LEVEL: 'silent' }
  const listed = await cli(['dead-letters', '--tenant', 'globex'], env)
  t.equal(listed.code, 0)
  const cliLetters = listed.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
  t.equal(cliLetters.length, 5, 'CLI: five dead letters for globex')
  t.equal((await cli(['dead-letters', '--tenant', 'acme'], env)).stdout.trim(), '', 'CLI: none for acme')
  const viaCli = cliLetters[0].id as string
  t.equal((await cli(['redrive', '--tenant', 'globex', viaCli], env)).code, 0, 'CLI: re-drive one')

  // 3. globex added to the tenants file; the rest re-driven through the API.
  const second = await startTestService(t, { simulator, clock, env: { TENANTS_FILE: both, DATA_DIR: dataDir } })
  const globex = apiClient(second.service, 'globex', GLOBEX)
  const pending = await globex.get('/dead-letters')
  t.equal(pending.status, 200)
  t.equal(pending.body.data.length, 4, 'API: four pending after the CLI re-drive')
  t.ok(pending.body.data.every((l: { key: string; raw: string }) => l.key.startsWith('globex:') && Buffer.from(l.raw, 'base64').length > 0), 'with key and original bytes')
  for (const l of pending.body.data) t.equal((await globex.post(`/dead-letters/${l.id}/redrive`)).status, 202, `API: re-drive ${l.id}`)
  t.equal((await globex.post(`/dead-letters/${viaCli}/redrive`)).status, 404, 'a letter already re-driven is not re-driven twice')
  await caughtUp(second.service)

  for (const s of strangers) {
    const stream = await second.service.stores.eventStore.readStream(`employee-globex_${s.id}`)
    t.equal(stream.filter((e) => e.type === 'EmployeeImported').length, 1, `${s.id}: imported exactly once`)
    t.ok(await globex.user(s.id as string), `${s.id}: a globex user`)
    t.equal(await apiClient(second.service, 'acme', ACME).user(s.id as string), null, `${s.id}: not an acme user`)
  }
  t.equal((await second.service.stores.deadLetters.list()).length, 0, 'no dead letter left pending, none added')
  t.equal((await globex.get('/dead-letters?all=true')).body.data.length, 5, '?all=true still lists the five, re-driven')
  recordTrial({
    fault: 'records of a tenant not (yet) configured; tenant added, re-driven by CLI (1) and API (4)',
    area: 'dead letters',
    mode: 'embedded',
    times: 5,
    outcome: 'dead-lettered with the reason; listed per tenant; after the fix each flowed exactly once',
    lost: 'nothing; no duplicate',
    test: 'test/reliability/dead-letters.test.ts',
    passed: t.passing(),
  })
})
