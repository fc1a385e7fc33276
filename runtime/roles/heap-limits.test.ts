import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { heapLimitFlag, ROLE_MAX_OLD_SPACE_MB } from './heap-limits.ts'

const compose = readFileSync(fileURLToPath(new URL('../../docker-compose.yml', import.meta.url)), 'utf8')

t.test('docker-compose.yml starts each capped role with its cap', async (t) => {
  for (const role of Object.keys(ROLE_MAX_OLD_SPACE_MB)) {
    const command = new RegExp(`^  ${role}:\\n(?:    .*\\n)*?    command: (\\[.*\\])$`, 'm').exec(compose)?.[1]
    t.ok(command, `${role} has a command`)
    t.same(JSON.parse(command ?? '[]'), ['node', heapLimitFlag(role), 'dist/bin/kombo-sync.js', role], `${role}'s command carries ${heapLimitFlag(role)}`)
  }
})

t.test('a role without a cap gets no flag', async (t) => {
  t.equal(heapLimitFlag('all'), '')
  t.equal(heapLimitFlag('processor'), '--max-old-space-size=160')
})
