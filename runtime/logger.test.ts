// Logs for people on a terminal, for machines elsewhere; secrets redacted in both.
import t from 'tap'
import { Writable } from 'node:stream'
import { createLogger } from './logger.ts'

function capture() {
  let text = ''
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString()
      done()
    },
  })
  return { stream, text: () => text }
}

t.test('pretty on a terminal: time, level, tenant and message on one readable line', async (t) => {
  const out = capture()
  const logger = createLogger('info', { destination: out.stream, isTTY: true })
  logger.info({ tenant: 'acme', records: 3, apiKey: 'sk_live_secret' }, 'poll finished')
  const line = out.text().trim()
  t.match(line, /^\[\d{2}:\d{2}:\d{2}(\.\d+)?\] INFO: \[acme\] poll finished/, 'readable prefix')
  t.match(line, /records.*3/, 'other fields follow on the same line')
  t.notMatch(line, /sk_live_secret/, 'secrets are redacted in pretty output too')
  t.throws(() => JSON.parse(line), 'not JSON')
})

t.test('JSON when not a terminal, and with LOG_FORMAT=json on one', async (t) => {
  for (const options of [{ isTTY: false }, { isTTY: true, format: 'json' as const }]) {
    const out = capture()
    createLogger('info', { destination: out.stream, ...options }).info({ tenant: 'acme', token: 'tok_secret' }, 'hello')
    const parsed = JSON.parse(out.text().trim()) as Record<string, unknown>
    t.equal(parsed.msg, 'hello')
    t.equal(parsed.tenant, 'acme')
    t.equal(parsed.token, '[redacted]')
  }
})

t.test('LOG_FORMAT=pretty forces readable lines without a terminal', async (t) => {
  const out = capture()
  createLogger('info', { destination: out.stream, isTTY: false, format: 'pretty' }).warn('careful')
  t.match(out.text(), /WARN: careful/)
})
