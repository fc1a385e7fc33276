// The operator console in a real headless Chromium (Debian's chromium, driven by playwright-core):
// sign in with the tenant token, see the demo tenant's sync, find a user with a data problem, open
// an employee's timeline, and release a real mass-deactivation hold (then see a second operator's
// stale Discard refused) — all through the same API routes any client uses.
import t from 'tap'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { apiClient, caughtUp, startTestService, startTestSimulator, controllableClock, syncNow, TOKEN } from '../support/e2e-story.ts'

const CHROMIUM = '/usr/bin/chromium'
const EMPLOYEES = 24
const DELETED = 10

if (!existsSync(CHROMIUM)) {
  // .ci/run installs Debian's chromium; only a machine where it cannot be installed gets here.
  t.comment(`skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`)
  t.pass('no browser on this machine')
} else {
  t.test('console: tenant overview, users with issues, an employee timeline and a hold released', async (t) => {
    const clock = controllableClock()
    const simulator = await startTestSimulator(t, clock, EMPLOYEES)
    const company = simulator.integration('demo')
    const [a, b, ...others] = company.list('employees') as unknown as Array<{ id: string; work_email: string | null; display_full_name: string | null }>
    company.update('employees', b.id, { work_email: a.work_email })
    company.update('employees', a.id, { job_title: 'Head of Consoles' })
    const { service } = await startTestService(t, { simulator, clock })
    await syncNow(service)
    const client = apiClient(service)
    const statusesNow = async () => Object.fromEntries((await client.allUsers()).map((u) => [u.externalId, u.status]))
    const before = await statusesNow()
    const active = Object.values(before).filter((s) => s === 'active').length

    // A real hold: the HR system reports 10 active employees deleted (through the simulator's control
    // API, as a test of the deployed service would), the clock tick holds them (default threshold:
    // more than 10 % and at least 10 users; 10 of the 20-odd active users is far above it).
    const control = simulator.url.replace(/\/v1$/, '/_control')
    const holdDeletionOf = async (ids: string[]) => {
      t.equal(ids.length, DELETED, `${DELETED} active employees to delete`)
      const deletions = await Promise.all(ids.map(async (id) => (await fetch(`${control}/integrations/demo/employees/${id}`, { method: 'DELETE' })).status))
      t.same(deletions, ids.map(() => 200), 'the simulator deleted them')
      await syncNow(service)
      await service.tickClock()
      await caughtUp(service)
      return (await client.get('/holds?status=open')).body.data[0]
    }
    const deletedIds = others.filter((e) => before[e.id] === 'active').slice(0, DELETED).map((e) => e.id)
    const held = await holdDeletionOf(deletedIds)
    t.same([held?.status, [...(held?.users ?? [])].sort()], ['open', [...deletedIds].sort()], 'the tick held the 10 deletions')

    const browser: Browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    t.teardown(() => browser.close())
    const scriptErrors: string[] = []
    const dialogs: string[] = []
    const signedIn = async (): Promise<Page> => {
      const page = await browser.newPage()
      page.on('pageerror', (e) => scriptErrors.push(e.message))
      // The console asks before it releases or discards: accept, and keep the question.
      page.on('dialog', (d) => (dialogs.push(d.message()), d.accept()))
      await page.goto(`${service.url}/console`)
      await page.fill('#tenant-id', 'demo')
      await page.fill('#tenant-token', TOKEN)
      await page.click('#sign-in')
      return page
    }
    const page = await signedIn()

    await page.waitForSelector('#sync table')
    const syncText = await page.textContent('#sync')
    t.match(syncText, /employees/, 'the sync section lists the employees resource')
    t.match(await page.textContent('h1'), /Tenant demo/)

    await page.waitForSelector('#issues table')
    const issues = await page.textContent('#issues')
    t.ok(issues?.includes(a.display_full_name ?? a.id) && issues?.includes(b.display_full_name ?? b.id), 'both users sharing an email are listed under duplicate work email')

    await page.waitForSelector('#holds button.release')
    const holds = await page.textContent('#holds')
    t.ok(holds?.includes(held.id), 'the open hold is listed with its id')
    t.match(holds, /10 users/, 'with its users count')
    t.ok(deletedIds.every((id) => holds?.includes(id)), 'and the ids of its users')
    t.match(holds, `${DELETED} of ${active} active users`, 'and the reason')
    t.match(await page.textContent('#sync'), /1 open mass-deactivation hold/, 'the sync section says a hold is open')

    const shots = process.env.CONSOLE_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'kombo-sync-console-'))
    await page.screenshot({ path: join(shots, 'console-tenant.png'), fullPage: true })

    await page.click(`#issues a.user-link >> text=${a.display_full_name ?? a.id}`)
    await page.waitForSelector('#timeline table')
    const timeline = await page.textContent('#timeline')
    t.match(timeline, /EmployeeImported/, 'the timeline shows the first snapshot')
    t.match(timeline, /Head of Consoles/, 'the first snapshot shows the job title the HR system holds')
    // docs/console-*.png are these screenshots (tenant, timeline, holds): CONSOLE_SCREENSHOT_DIR=docs npx tap test/e2e/console.browser.test.ts
    await page.screenshot({ path: join(shots, 'console-timeline.png'), fullPage: true })

    // A second operator's tab, opened while the hold is still open: it will be stale.
    const stale = await signedIn()
    await stale.waitForSelector('#holds button.discard')

    // Release from the tenant page, as ops@example.test.
    await page.click('a >> text=← tenant demo')
    await page.waitForSelector('#holds button.release')
    await page.fill('#hold-actor', 'ops@example.test')
    await page.click(`#holds button.release[data-hold="${held.id}"]`)
    await page.waitForSelector('#hold-result')
    t.match(dialogs.at(-1), /Release hold .*deactivate 10 user\(s\).*ops@example\.test/, 'the console asked before releasing, naming the users count and the actor')
    t.match(await page.textContent('#hold-result'), /released by ops@example\.test/, 'the page says the hold is released')
    t.match(await page.textContent('#decided-holds'), new RegExp(`${held.id}.*released.*ops@example\\.test`), 'the hold is listed as decided')
    t.notOk(await page.$('#holds button.release'), 'no open hold left to release')
    t.notMatch(await page.textContent('#sync'), /open mass-deactivation hold/)

    await caughtUp(service)
    const [after] = (await client.get('/holds')).body.data
    t.same([after.id, after.status, after.decidedBy], [held.id, 'released', 'ops@example.test'], 'the API has the hold released by the actor')
    const statuses = await statusesNow()
    t.ok(deletedIds.every((id) => statuses[id] === 'deactivated'), 'the 10 held users are deactivated')
    const untouched = Object.keys(before).filter((id) => !deletedIds.includes(id))
    t.same(untouched.map((id) => statuses[id]), untouched.map((id) => before[id]), 'everyone else keeps the status they had')

    // The stale tab discards the released hold: refused by the API, said readably, list refreshed.
    await stale.click(`#holds button.discard[data-hold="${held.id}"]`)
    await stale.waitForSelector('#hold-note .error')
    const refused = await stale.textContent('#hold-note')
    t.match(refused, new RegExp(`Discard of hold ${held.id} failed: .*released by ops@example\\.test.*\\(HTTP 409\\)`), 'the conflict is shown with who released it')
    t.match(await stale.textContent('#decided-holds'), /released/, 'and the stale tab now shows the hold released')
    await stale.screenshot({ path: join(shots, 'console-holds.png'), fullPage: true })

    // A second round of deletions held, and discarded from the page: the actor is required.
    const secondIds = others.filter((e) => statuses[e.id] === 'active').slice(0, DELETED).map((e) => e.id)
    const second = await holdDeletionOf(secondIds)
    t.ok(second && second.id !== held.id, 'a second hold is open')
    await page.reload()
    await page.waitForSelector(`#holds button.discard[data-hold="${second.id}"]`)
    t.equal(await page.inputValue('#hold-actor'), 'ops@example.test', 'the actor field is prefilled with the name this tab used last')
    await page.fill('#hold-actor', ' ')
    const asked = dialogs.length
    await page.click(`#holds button.discard[data-hold="${second.id}"]`)
    t.match(await page.textContent('#hold-note'), /Enter who decides/, 'no actor: the console says so')
    t.equal(dialogs.length, asked, 'and asks nothing, calls nothing')
    t.equal((await client.get('/holds?status=open')).body.data.length, 1, 'the hold is still open')
    await page.fill('#hold-actor', 'lead@example.test')
    await page.click(`#holds button.discard[data-hold="${second.id}"]`)
    await page.waitForSelector('#hold-result')
    t.match(dialogs.at(-1), /Discard hold .*keep 10 user\(s\) active.*lead@example\.test/)
    t.match(await page.textContent('#hold-result'), /discarded by lead@example\.test/)
    await caughtUp(service)
    const discarded = (await client.get('/holds')).body.data.find((x: { id: string }) => x.id === second.id)
    t.same([discarded.status, discarded.decidedBy], ['discarded', 'lead@example.test'], 'the API has the hold discarded by the actor')
    const afterDiscard = await statusesNow()
    t.same(secondIds.map((id) => afterDiscard[id]), secondIds.map(() => 'active'), 'its users stay active')

    // An unauthenticated call from the page is refused by the API, not by the console.
    const status = await page.evaluate(async (url) => (await fetch(url)).status, `${service.url}/v1/tenants/demo/users`)
    t.equal(status, 401, 'the API still demands a token from the page')
    t.same(scriptErrors, [], 'no uncaught script errors in the page')
  })
}
