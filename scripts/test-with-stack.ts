// Starts one Kafka broker and one Schema Registry for a whole test run, exports them as
// TEST_KAFKA_BROKERS / TEST_SCHEMA_REGISTRY_URL, runs the command after `--`, forwards its exit
// code and always stops the stack (also on Ctrl-C). Usage: tsx scripts/test-with-stack.ts -- tap
import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import { startKafka, startSchemaRegistry } from '../infra/local-stack.ts'

const sep = process.argv.indexOf('--')
const command = sep >= 0 ? process.argv.slice(sep + 1) : []
if (command.length === 0) {
  console.error('usage: tsx scripts/test-with-stack.ts -- <command> [args…]')
  process.exit(2)
}

const cacheDir = process.env.KOMBO_SYNC_STACK_DIR || undefined
const started = Date.now()
const [kafka, registry] = await Promise.allSettled([startKafka({ cacheDir }), startSchemaRegistry({ cacheDir })])
const stopStack = () =>
  Promise.all([
    kafka.status === 'fulfilled' ? kafka.value.stop() : undefined,
    registry.status === 'fulfilled' ? registry.value.stop() : undefined,
  ])
if (kafka.status === 'rejected' || registry.status === 'rejected') {
  await stopStack()
  console.error(kafka.status === 'rejected' ? kafka.reason : (registry as PromiseRejectedResult).reason)
  process.exit(1)
}
console.error(`# test stack up in ${((Date.now() - started) / 1000).toFixed(1)}s: Kafka ${kafka.value.brokers.join(',')}, registry ${registry.value.url}`)

const child = spawn(command[0]!, command.slice(1), {
  stdio: 'inherit',
  shell: process.platform === 'win32',
  env: {
    ...process.env,
    TEST_KAFKA_BROKERS: kafka.value.brokers.join(','),
    TEST_SCHEMA_REGISTRY_URL: registry.value.url,
  },
})
// The child shares our terminal, so Ctrl-C reaches it too; we only stop the stack once it ended.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal))
const code = await new Promise<number>((resolve) => {
  child.once('error', (err) => {
    console.error(`cannot run ${command[0]}: ${err.message}`)
    resolve(127)
  })
  child.once('exit', (c, s) => resolve(c ?? (s ? 128 + (constants.signals[s] ?? 0) : 1)))
})
await stopStack()
process.exit(code)
