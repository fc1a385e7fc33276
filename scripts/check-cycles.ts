// Fails (exit 1) when the non-test code has an import cycle, and names each cycle found. Every
// relative import counts — static, `export … from`, `import type` and dynamic `import('…')` —
// because a cycle of types still ties two modules' meanings together. Run by .ci/run before the
// tests: `npx tsx scripts/check-cycles.ts`.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

export const CHECKED_FOLDERS = ['producers', 'processors', 'projections', 'api', 'runtime', 'schemas', 'config', 'sql', 'bin', 'tenants', 'errors']

const importPattern = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm

/** The non-test TypeScript files under `dir`, recursively. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path))
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(path)
  }
  return out
}

/** Relative imports of one file, resolved to absolute paths (the code imports with `.ts`). */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const found = new Set<string>()
  for (const m of text.matchAll(importPattern)) {
    const spec = m[1] ?? m[2] ?? m[3]
    if (spec?.startsWith('.')) found.add(resolve(dirname(file), spec))
  }
  return [...found]
}

/**
 * Cycles found by a depth-first walk: one per back edge, each reported once (by its node set). A
 * graph has a cycle exactly when such a walk finds a back edge, so an empty answer means none.
 */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = []
  const seen = new Set<string>()
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (node: string) => {
    state.set(node, 'open')
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue // outside the checked folders
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next))
        const key = [...cycle].sort().join('|')
        if (!seen.has(key)) {
          seen.add(key)
          cycles.push([...cycle, next])
        }
      } else if (!state.has(next)) visit(next)
    }
    stack.pop()
    state.set(node, 'done')
  }
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node)
  return cycles
}

function main(): void {
  // The repository by default; another checkout as the first argument.
  const root = resolve(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), '..'))
  const files = CHECKED_FOLDERS.flatMap((f) => sourceFiles(join(root, f)))
  const graph = new Map(files.map((f) => [f, importsOf(f)]))
  const cycles = findCycles(graph)
  if (cycles.length === 0) {
    process.stdout.write(`no import cycle in ${files.length} files (${CHECKED_FOLDERS.join(' ')})\n`)
    return
  }
  for (const cycle of cycles) process.stderr.write(`import cycle: ${cycle.map((f) => relative(root, f)).join(' → ')}\n`)
  process.stderr.write(`${cycles.length} import cycle(s) found\n`)
  process.exitCode = 1
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) main()
