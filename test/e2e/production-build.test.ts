// The production build: `tsc -p tsconfig.build.json` compiles the service to JavaScript, and the
// compiled entry point runs the whole pipeline with plain `node` (no tsx loaded), as the Dockerfile
// runs it. Compiled into a temp directory inside the checkout (ESM resolves packages from the
// file's own directory upwards, so node_modules must be above it), never a developer's dist/.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

t.test('npm run build output runs with node alone and serves the API', async (t) => {
  mkdirSync(join(root, '.build-test'), { recursive: true })
  const out = mkdtempSync(join(root, '.build-test', 'dist-'))
  const dataDir = mkdtempSync(join(tmpdir(), 'kombo-sync-dist-data-'))
  t.teardown(() => {
    rmSync(out, { recursive: true, force: true })
    rmSync(dataDir, { recursive: true, force: true })
  })
  await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', out], { cwd: root })
  const entry = join(out, 'bin', 'kombo-sync.js')
  t.ok(existsSync(entry), 'the entry point was compiled')
  t.notOk(existsSync(join(out, 'test')), 'tests are not part of the build')

  // --import tsx is NOT given: a remaining `.ts` import would fail to load here.
  const proc = spawn(process.execPath, [entry, 'all'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, PORT: '0', SIMULATOR_EMPLOYEES: '20', SIMULATOR_CHURN_PER_SECOND: '0', LOG_LEVEL: 'warn', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  proc.stdout.on('data', (b: Buffer) => (output += b))
  proc.stderr.on('data', (b: Buffer) => (output += b))
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve))
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
    await exited
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`compiled service did not start:\n${output}`)), 60_000)
    proc.stdout.on('data', () => {
      const m = /kombo-sync is running: (http:\/\/\S+)/.exec(output)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`compiled service exited with ${code}:\n${output}`))
    })
  })
  const token = /token: (\S+)\)/.exec(output)?.[1]
  t.ok(token, 'the demo token is printed')
  let users: unknown[] = []
  for (let i = 0; i < 100 && users.length === 0; i++) {
    const res = await fetch(`${url}/v1/tenants/demo/users?limit=5`, { headers: { authorization: `Bearer ${token}` } })
    if (res.ok) users = ((await res.json()) as { data: unknown[] }).data
    if (users.length === 0) await new Promise((r) => setTimeout(r, 200))
  }
  t.equal(users.length, 5, 'the compiled pipeline synced users that the compiled API serves')
  proc.kill('SIGTERM')
  t.equal(await exited, 0, 'stops cleanly on SIGTERM')
})
