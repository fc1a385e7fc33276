// The cycle check itself: it finds a cycle (also through `import type` and a dynamic import), and
// reports none for a graph without one.
import t from 'tap'
import { findCycles, importsOf } from './check-cycles.ts'

t.test('imports of a file: static, type-only, re-exports and dynamic, relative only', async (t) => {
  const text = [
    "import { a } from './a.ts'",
    "import type { B } from '../b.ts'",
    "export { c } from './c.ts'",
    "const d = await import('./d.ts')",
    "import pg from 'pg'",
    "import './side-effect.ts'",
  ].join('\n')
  t.same(importsOf('/repo/x/file.ts', text).sort(), ['/repo/b.ts', '/repo/x/a.ts', '/repo/x/c.ts', '/repo/x/d.ts', '/repo/x/side-effect.ts'])
})

t.test('a cycle is found and named once; a graph without one passes', async (t) => {
  const cyclic = new Map([
    ['service', ['admin', 'stores']],
    ['admin', ['stores', 'service']],
    ['stores', []],
  ])
  t.same(findCycles(cyclic), [['admin', 'service', 'admin']])
  const acyclic = new Map([
    ['service', ['admin', 'group']],
    ['admin', ['group']],
    ['group', []],
  ])
  t.same(findCycles(acyclic), [])
})

t.test('imports leaving the checked folders do not count', async (t) => {
  t.same(findCycles(new Map([['a', ['outside']]])), [])
})
