import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { acquireDataDirLock, DataDirLockedError, LOCK_FILE } from './data-dir-lock.ts'

t.test('the lock holds pid, host and start time, blocks a second taker in this process, and is released', async (t) => {
  const dir = t.testdir({})
  const lock = acquireDataDirLock(dir)
  const owner = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))
  t.match(owner, { pid: process.pid, host: hostname(), startedAt: /^\d{4}-/ })
  t.throws(() => acquireDataDirLock(dir), DataDirLockedError, 'a second open in the same process is refused')
  lock.release()
  t.notOk(existsSync(join(dir, LOCK_FILE)), 'released: the file is gone')
  acquireDataDirLock(dir).release()
})

t.test('a lock held by another live process stops us with a message naming its pid', async (t) => {
  const dir = t.testdir({})
  // A child that takes the lock and keeps it until killed.
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
    const { acquireDataDirLock } = await import(${JSON.stringify(new URL('./data-dir-lock.ts', import.meta.url).href)})
    acquireDataDirLock(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => child.kill('SIGKILL'))
  await new Promise<void>((resolve) => child.stdout!.on('data', (b: Buffer) => b.toString().includes('locked') && resolve()))
  const err = t.throws(() => acquireDataDirLock(dir)) as DataDirLockedError
  t.equal(err.name, 'DataDirLockedError')
  t.equal(err.owner.pid, child.pid)
  t.match(err.message, new RegExp(`in use by another kombo-sync process \\(pid ${child.pid} `))
  t.equal(err.retriable, false)
})

t.test('a stale lock (its pid is not alive) is taken over', async (t) => {
  const dir = t.testdir({})
  const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: gone, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }))
  const lock = acquireDataDirLock(dir, { isAlive: (pid) => pid !== gone && process.kill(pid, 0) })
  t.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid, 'now ours')
  lock.release()
  // A half-written lock (crash between create and write) is stale too.
  writeFileSync(join(dir, LOCK_FILE), '{"pi')
  acquireDataDirLock(dir).release()
  // Our own pid in a lock this process never took: a restart in a container (pid 1 again).
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }))
  acquireDataDirLock(dir).release()
  t.pass('both taken over')
})

t.test('a lock from another host cannot be checked and is respected', async (t) => {
  const dir = t.testdir({})
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 4242, host: 'elsewhere.example', startedAt: '2026-01-01T00:00:00.000Z' }))
  t.throws(() => acquireDataDirLock(dir, { isAlive: () => false }), /pid 4242 on elsewhere\.example/)
})
