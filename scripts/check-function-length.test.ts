import t from 'tap'
import { longFunctions } from './check-function-length.ts'

const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i}`).join('\n')

t.test('a function over the limit is named with its line and length; one at the limit is not', async (t) => {
  const text = `export function short() {\n${body(78)}\n}\n\nexport function long() {\n${body(79)}\n}\n`
  const found = longFunctions('x.ts', text, 80)
  t.same(found, [{ file: 'x.ts', name: 'long', line: 82, lines: 81 }])
})

t.test('methods of a returned object literal count as themselves, and the factory around them too', async (t) => {
  const text = `export const open = () => ({\n  read() {\n${body(85)}\n  },\n})\n`
  const names = longFunctions('y.ts', text, 80).map((f) => f.name)
  t.same(names.sort(), ['open', 'read'])
})
