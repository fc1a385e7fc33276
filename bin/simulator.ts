// `npm run simulator -- --port 4010 --employees 500 --seed 1 [--churn 2]`
// Runs the Kombo simulator until SIGINT/SIGTERM and prints its base URL.
import { parseArgs } from 'node:util'
import { startKomboSimulator } from '../simulator/index.ts'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4010' },
    host: { type: 'string', default: '127.0.0.1' },
    employees: { type: 'string', default: '200' },
    teams: { type: 'string', default: '12' },
    locations: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    churn: { type: 'string', default: '0' },
  },
})

function integerOption(name: string, text: string | undefined): number {
  const value = Number(text)
  if (!Number.isFinite(value) || value < 0) {
    console.error(`--${name} must be a non-negative number, got "${text}"`)
    process.exit(2)
  }
  return value
}

const simulator = await startKomboSimulator({
  port: integerOption('port', values.port),
  host: values.host,
  employees: integerOption('employees', values.employees),
  teams: integerOption('teams', values.teams),
  locations: integerOption('locations', values.locations),
  seed: integerOption('seed', values.seed),
})
const churn = integerOption('churn', values.churn)
if (churn > 0) simulator.startChurn(churn)

console.log(`Kombo simulator listening: ${simulator.url}`)
console.log(`  try: curl -H 'Authorization: Bearer dev' -H 'X-Integration-Id: demo' '${simulator.url}/hris/employees?page_size=2'`)
if (churn > 0) console.log(`  churn: ${churn} change(s)/s per seeded integration`)

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    console.log(`\n${signal}: stopping simulator`)
    simulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err)
        process.exit(1)
      },
    )
  })
}
