// kombo-sync's one binary: `kombo-sync [all|poller|processor|projector|api]` runs those roles;
// `kombo-sync rebuild` rebuilds the views from the start of the event store.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadProcessConfig, ConfigError } from '../config/config.ts'
import { createLogger } from '../runtime/logger.ts'
import { startTracing } from '../runtime/tracing-sdk.ts'
import { startService } from '../runtime/service.ts'
import { runAdminCommand, adminCommands } from '../runtime/admin.ts'

/** The demo tenant's token: kept in the data directory so it survives restarts. */
function demoTokenIn(dataDir: string): string {
  const file = join(dataDir, 'demo-token')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(dataDir, { recursive: true })
  const token = randomBytes(24).toString('base64url')
  writeFileSync(file, token, { mode: 0o600 })
  return token
}

async function main(): Promise<void> {
  const [command = 'all', ...args] = process.argv.slice(2)
  const isAdmin = (adminCommands as readonly string[]).includes(command)
  const config = loadProcessConfig(isAdmin ? 'all' : command, { demoToken: demoTokenIn })
  const logger = createLogger(config.logLevel, { format: config.logFormat })
  if (isAdmin) {
    process.exitCode = await runAdminCommand(command, args, config, logger)
    return
  }
  const tracing = config.tracing ? startTracing(config.tracing) : null
  if (config.tracing) logger.info({ endpoint: config.tracing.endpoint, serviceName: config.tracing.serviceName }, 'tracing on (OTLP/HTTP)')
  const service = await startService(config, { logger })
  if (service.url) {
    // A token the operator chose (DEMO_API_TOKEN) is a secret they already have: never print it.
    // Only a generated one is shown, once, so that `npm start` is usable without configuration.
    const shown = config.demoTokenGiven ? '$DEMO_API_TOKEN' : config.demoToken
    const token = shown ? `, token: ${shown}` : ''
    const tenant = config.tenants[0].id
    process.stdout.write(
      `\nkombo-sync is running: ${service.url}  (tenant "${tenant}"${token})\n` +
        `  curl -H "Authorization: Bearer ${shown ?? '<token>'}" ${service.url}/v1/tenants/${tenant}/users?limit=5\n` +
        `  API docs: ${service.url}/docs\n\n`,
    )
  } else {
    // Roles without the read API say when they are up too (operators, process supervisors, tests).
    const metrics = service.metricsUrl ? `; metrics: ${service.metricsUrl}/metrics` : ''
    process.stdout.write(`\nkombo-sync is running: role ${config.role}, no read API in this process${metrics}\n\n`)
  }
  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping: finishing in-flight batches')
    service.stop().then(() => tracing?.shutdown()).then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

main().catch((err: Error) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`kombo-sync: ${err.message}\n`)
  } else {
    process.stderr.write(`kombo-sync failed to start: ${err.stack ?? err.message}\n`)
  }
  process.exit(1)
})
