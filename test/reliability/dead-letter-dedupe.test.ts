// The same bad record read again by every poll is one dead letter (counted), not one per poll;
// the dead-letter API pages and filters; big letters keep a prefix.
import t from 'tap'
import { startTestSimulator, startTestService, syncNow, apiClient, controllableClock } from '../support/e2e-story.ts'
import { recordTrial } from '../support/reliability-log.ts'

const test = 'test/reliability/dead-letter-dedupe.test.ts'

t.test('an id-less record re-read by 6 polls is one dead letter; GET /dead-letters pages and filters', async (t) => {
  const clock = controllableClock()
  const simulator = await startTestSimulator(t, clock, 30)
  const { service } = await startTestService(t, { simulator, clock })
  await syncNow(service)
  const company = simulator.integration('demo')
  const api = apiClient(service)
  const ids = company.list('employees').map((e) => e.id as string)
  const before = (await service.stores.deadLetters.list()).length

  // Kombo keeps serving the same broken record (no id) on every poll.
  const { id: _id, ...idless } = company.update('employees', ids[0], { job_title: 'Broken every time' })
  for (let poll = 0; poll < 6; poll++) {
    simulator.injectFault({ kind: 'raw-record', resource: 'employees', json: JSON.stringify({ ...idless, id: null }) })
    await syncNow(service)
  }
  const letters = await service.stores.deadLetters.list()
  t.equal(letters.length, before + 1, 'one dead letter, not six')
  t.equal(letters[0].count, 6, 'counted six times')

  // Letters of two resources and reasons, to page and filter over.
  for (let i = 0; i < 4; i++) {
    company.update('employees', ids[1 + i], { job_title: `Bad type ${i}` })
    simulator.injectFault({ kind: 'invalid-record', resource: 'employees', patch: { job_title: 1000 + i } })
    await syncNow(service)
  }
  const group = company.list('groups')[0].id as string
  company.update('groups', group, { name: 'Bad group' })
  simulator.injectFault({ kind: 'invalid-record', resource: 'groups', patch: { name: 42 } })
  await syncNow(service)

  const all = await api.get('/dead-letters?limit=200')
  t.equal(all.status, 200)
  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const page: { status: number; body: any } = await api.get(`/dead-letters?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
    t.equal(page.status, 200)
    t.ok(page.body.data.length <= 2, 'at most limit letters')
    seen.push(...page.body.data.map((l: { id: string }) => l.id))
    cursor = page.body.next
    pages += 1
  } while (cursor && pages < 50)
  t.same(seen, all.body.data.map((l: { id: string }) => l.id), 'paging with the cursor gives every letter once, newest first')
  t.ok(pages >= 3, `several pages (${pages})`)
  const groups = await api.get('/dead-letters?resource=groups')
  t.ok(groups.body.data.length >= 1 && groups.body.data.every((l: any) => l.origin.resource === 'groups'), 'filtered by resource')
  const byReason = await api.get('/dead-letters?reason=record%20INVALID-')
  t.equal(byReason.body.data.length, 1, 'filtered by reason')
  t.equal(byReason.body.data[0].count, 6)
  t.equal(byReason.body.data[0].rawTruncated, false)
  t.equal((await api.get('/dead-letters?limit=0')).status, 400, 'limit is bounded')
  recordTrial({ fault: 'the same id-less record served by 6 polls in a row', area: 'dead letters', mode: 'embedded', times: 6, outcome: 'one dead letter with count 6 (deduped by content per tenant and resource); GET /dead-letters paged (cursor + limit) and filtered by resource and reason', lost: 'nothing; no duplicate letter', test, passed: t.passing() })
})
