// `tsx infra/local-stack-cli.ts fetch` downloads the Kafka and Apicurio jars (CI runs it first);
// `tsx infra/local-stack-cli.ts up` starts a broker and a registry, prints the environment that
// points kombo-sync at them, and keeps them running until Ctrl-C.
// KOMBO_SYNC_STACK_DIR overrides the jar cache (default ~/.cache/kombo-sync/stack).
import { ensureKafkaJars, startKafka, startSchemaRegistry } from './local-stack.ts'

const cacheDir = process.env.KOMBO_SYNC_STACK_DIR || undefined
const command = process.argv[2]

if (command === 'fetch') {
  const started = Date.now()
  const paths = await ensureKafkaJars({ cacheDir })
  console.log(`jars ready in ${((Date.now() - started) / 1000).toFixed(1)}s: ${paths.kafkaLibs}, ${paths.apicurioDir}`)
} else if (command === 'up') {
  await ensureKafkaJars({ cacheDir })
  const started = Date.now()
  const [kafka, registry] = await Promise.all([startKafka({ cacheDir }), startSchemaRegistry({ cacheDir })])
  console.error(`# Kafka (pid ${kafka.pid}, log ${kafka.logFile}) and Schema Registry (pid ${registry.pid}, log ${registry.logFile}) up in ${((Date.now() - started) / 1000).toFixed(1)}s; Ctrl-C stops both`)
  console.log(`export KAFKA_BROKERS=${kafka.brokers.join(',')}`)
  console.log(`export SCHEMA_REGISTRY_URL=${registry.url}`)
  let stopping = false
  const shutdown = async () => {
    if (stopping) return
    stopping = true
    await Promise.all([kafka.stop(), registry.stop()])
    process.exit(0)
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
  setInterval(() => {}, 1 << 30) // keep the event loop alive until a signal arrives
} else {
  console.error('usage: tsx infra/local-stack-cli.ts fetch|up')
  process.exit(2)
}
