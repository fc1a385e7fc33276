// A JSON logger whose lines a test reads: what an operator's terminal (or log shipper) would get.
import { Writable } from 'node:stream'
import { createLogger } from '../../runtime/logger.ts'

export function capturedLogger() {
  const lines: Array<{ msg: string } & Record<string, unknown>> = []
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(chunk.toString('utf8'))), done()) })
  return { lines, logger: createLogger('info', { format: 'json', destination: sink }) }
}
