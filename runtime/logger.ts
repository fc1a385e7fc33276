// Structured logs (pino). Secrets are redacted by path wherever they could appear.
// On a terminal the lines are for people (time, level, tenant, message, via pino-pretty, written
// synchronously in-process: no worker thread to lose lines at exit); anywhere else, or with
// LOG_FORMAT=json, one JSON object per line for machines, as before.
import { pino, type Logger } from 'pino'
import pretty from 'pino-pretty'

export const redactedPaths = [
  'apiKey',
  '*.apiKey',
  'kombo.apiKey',
  'token',
  '*.token',
  'demoToken',
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
]

/** `auto`: readable when stdout is a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'pretty' | 'json'

export interface LoggerOptions {
  format?: LogFormat
  /** Where lines go (tests); default stdout. */
  destination?: NodeJS.WritableStream
  /** Whether the destination is a terminal (default: process.stdout.isTTY). */
  isTTY?: boolean
}

export function createLogger(level: string, options: LoggerOptions | NodeJS.WritableStream = {}): Logger {
  const o: LoggerOptions = 'write' in options ? { destination: options } : options
  const base = { level, redact: { paths: redactedPaths, censor: '[redacted]' }, base: { service: 'kombo-sync' } }
  if (usePretty(o)) {
    const stream = pretty({
      destination: o.destination ?? process.stdout,
      sync: true,
      colorize: o.destination === undefined && (o.isTTY ?? Boolean(process.stdout.isTTY)),
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,service,tenant',
      messageFormat: '{if tenant}[{tenant}] {end}{msg}',
      singleLine: true,
    })
    return pino(base, stream)
  }
  return pino(base, o.destination as pino.DestinationStream | undefined)
}

function usePretty(o: LoggerOptions): boolean {
  if (o.format === 'pretty') return true
  if (o.format === 'json') return false
  return o.isTTY ?? Boolean(process.stdout.isTTY)
}
export type { Logger }
