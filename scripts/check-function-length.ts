// Fails (exit 1) when a function in the pipeline's core folders is longer than MAX_LINES, and names
// each one with its length and place (issue 11: "no function over ~80 lines in runtime/,
// processors/, projections/"). A long function there usually does several jobs that deserve names
// of their own. Counted from the function's first to its last line, comments included, with the
// TypeScript parser so that nested functions and object-literal methods count as themselves.
// Run by .ci/run before the tests: `npx tsx scripts/check-function-length.ts [folder …]`.
import { readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { sourceFiles } from './check-cycles.ts'

export const MAX_LINES = 80
export const CHECKED_FOLDERS = ['runtime', 'processors', 'projections']

export interface LongFunction {
  file: string
  name: string
  line: number
  lines: number
}


function nameOf(node: ts.FunctionLikeDeclaration, source: ts.SourceFile): string {
  if (node.name) return node.name.getText(source)
  const parent = node.parent
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(source)
  return '(anonymous)'
}

/** The functions of one file's text longer than `max` lines. */
export function longFunctions(file: string, text: string, max = MAX_LINES): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found: LongFunction[] = []
  const visit = (node: ts.Node) => {
    if (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line
      const lines = last - first + 1
      if (lines > max) found.push({ file, name: nameOf(node, source), line: first + 1, lines })
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = process.cwd()
  const folders = process.argv.slice(2).length > 0 ? process.argv.slice(2) : CHECKED_FOLDERS
  const files = folders.flatMap((folder) => sourceFiles(join(root, folder)))
  const long = files.flatMap((file) => longFunctions(relative(root, file), readFileSync(file, 'utf8')))
  if (long.length > 0) {
    for (const f of long.sort((a, b) => b.lines - a.lines)) console.error(`${f.file}:${f.line} ${f.name} is ${f.lines} lines (at most ${MAX_LINES})`)
    console.error(`${long.length} function(s) over ${MAX_LINES} lines in ${folders.join(', ')}`)
    process.exit(1)
  }
  console.log(`no function over ${MAX_LINES} lines in ${files.length} files of ${folders.join(', ')}`)
}
