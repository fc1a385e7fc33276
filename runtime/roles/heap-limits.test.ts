import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { heapLimitFlag, roleNodeFlags, ROLE_MAX_OLD_SPACE_MB } from './heap-limits.ts'

const compose = readFileSync(fileURLToPath(new URL('../../docker-compose.yml', import.meta.url)), 'utf8')

t.test('docker-compose.yml starts each capped role with its cap and the growing factor', async (t) => {
  for (const role of Object.keys(ROLE_MAX_OLD_SPACE_MB)) {
    const command = new RegExp(`^  ${role}:\\n(?:    .*\\n)*?    command: (\\[.*\\])$`, 'm').exec(compose)?.[1]
    t.ok(command, `${role} has a command`)
    t.same(JSON.parse(command ?? '[]'), ['node', ...roleNodeFlags(role), 'dist/bin/kombo-sync.js', role], `${role}'s command carries ${roleNodeFlags(role).join(' ')}`)
  }
})

t.test('a role without a cap gets no flag', async (t) => {
  t.equal(heapLimitFlag('all'), '')
  t.equal(heapLimitFlag('processor'), '--max-old-space-size=160')
  t.same(roleNodeFlags('all'), [])
  t.same(roleNodeFlags('projector'), ['--max-old-space-size=160', '--heap-growing-percent=50'])
})

t.test('node accepts the flags on its command line, and V8 the cap', async (t) => {
  const { execFileSync } = await import('node:child_process')
  const limitMb = Number(execFileSync(process.execPath, [...roleNodeFlags('processor'), '-e', "process.stdout.write(String(require('v8').getHeapStatistics().heap_size_limit / 1048576))"], { encoding: 'utf8' }))
  // heap_size_limit is the old space's cap plus the young generation's.
  t.ok(limitMb >= 160 && limitMb < 256, `heap limit ${limitMb} MB`)
})
