// The operator console in a real headless Chromium (Debian's chromium, driven by playwright-core):
// sign in with the tenant token, see the demo tenant's sync, find a user with a data problem, and
// open an employee's timeline — all through the same API routes any client uses.
import t from 'tap'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { startTestService, startTestSimulator, controllableClock, syncNow, TOKEN } from '../support/e2e-story.ts'

const CHROMIUM = '/usr/bin/chromium'

if (!existsSync(CHROMIUM)) {
  // .ci/run installs Debian's chromium; only a machine where it cannot be installed gets here.
  t.comment(`skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`)
  t.pass('no browser on this machine')
} else {
  t.test('console: tenant overview, users with issues and an employee timeline', async (t) => {
    const clock = controllableClock()
    const simulator = await startTestSimulator(t, clock, 12)
    const company = simulator.integration('demo')
    const [a, b] = company.list('employees') as unknown as Array<{ id: string; work_email: string | null; display_full_name: string | null }>
    company.update('employees', b.id, { work_email: a.work_email })
    company.update('employees', a.id, { job_title: 'Head of Consoles' })
    const { service } = await startTestService(t, { simulator, clock })
    await syncNow(service)

    const browser: Browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    t.teardown(() => browser.close())
    const page = await browser.newPage()
    const scriptErrors: string[] = []
    page.on('pageerror', (e) => scriptErrors.push(e.message))

    await page.goto(`${service.url}/console`)
    await page.fill('#tenant-id', 'demo')
    await page.fill('#tenant-token', TOKEN)
    await page.click('#sign-in')

    await page.waitForSelector('#sync table')
    const syncText = await page.textContent('#sync')
    t.match(syncText, /employees/, 'the sync section lists the employees resource')
    t.match(await page.textContent('h1'), /Tenant demo/)

    await page.waitForSelector('#issues table')
    const issues = await page.textContent('#issues')
    t.ok(issues?.includes(a.display_full_name ?? a.id) && issues?.includes(b.display_full_name ?? b.id), 'both users sharing an email are listed under duplicate work email')

    const shots = process.env.CONSOLE_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'kombo-sync-console-'))
    await page.screenshot({ path: join(shots, 'console-tenant.png'), fullPage: true })

    await page.click(`#issues a.user-link >> text=${a.display_full_name ?? a.id}`)
    await page.waitForSelector('#timeline table')
    const timeline = await page.textContent('#timeline')
    t.match(timeline, /EmployeeImported/, 'the timeline shows the first snapshot')
    t.match(timeline, /Head of Consoles/, 'the first snapshot shows the job title the HR system holds')
    // docs/console-*.png are these screenshots: CONSOLE_SCREENSHOT_DIR=docs npx tap test/e2e/console.browser.test.ts
    await page.screenshot({ path: join(shots, 'console-timeline.png'), fullPage: true })

    // An unauthenticated call from the page is refused by the API, not by the console.
    const status = await page.evaluate(async (url) => (await fetch(url)).status, `${service.url}/v1/tenants/demo/users`)
    t.equal(status, 401, 'the API still demands a token from the page')
    t.same(scriptErrors, [], 'no uncaught script errors in the page')
  })
}
