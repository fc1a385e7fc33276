// Structured logs (pino). Secrets are redacted by path wherever they could appear.
import { pino, type Logger } from 'pino'

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

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: redactedPaths, censor: '[redacted]' }, base: { service: 'kombo-sync' } },
    destination as pino.DestinationStream | undefined,
  )
}
export type { Logger }
