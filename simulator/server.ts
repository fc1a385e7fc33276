// Starts the simulator: one HTTP server serving the Kombo API under /v1 and the control API
// under /_control, with a lazily seeded company per integration id.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Churn } from './churn.ts'
import { SimulatedCompany } from './company.ts'
import { CONTROL_PATH, handleControlRequest } from './control-routes.ts'
import { FaultQueue, type SimulatorFault } from './faults.ts'
import { sendJson } from './http-io.ts'
import { BASE_PATH, handleKomboRequest, type RequestLogEntry } from './kombo-routes.ts'
import { seedFor } from './rng.ts'

export interface KomboSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number
  host?: string
  employees?: number
  teams?: number
  locations?: number
  seed?: number
  now?: () => Date
  /** Reserved: the simulator does not log; pass false to say so explicitly. */
  logger?: false
}

export interface KomboSimulator {
  /** The Kombo base URL, e.g. http://127.0.0.1:4010/v1 */
  url: string
  integration(id: string): SimulatedCompany
  /**
   * The customer reconnects: integration `toId` serves `fromId`'s company with new Kombo ids (same
   * remote ids and emails), as Kombo does after a reconnect. `fromId` keeps serving its data.
   */
  reconnect(fromId: string, toId: string): SimulatedCompany
  injectFault(fault: SimulatorFault): void
  clearFaults(): void
  requestLog: RequestLogEntry[]
  /** Each tick makes one random change in every integration seeded so far. */
  startChurn(ratePerSecond: number): void
  stopChurn(): void
  close(): Promise<void>
}

export async function startKomboSimulator(opts: KomboSimulatorOptions = {}): Promise<KomboSimulator> {
  const shape = { employees: opts.employees ?? 200, teams: opts.teams ?? 12, locations: opts.locations ?? 4 }
  if (!Number.isInteger(shape.employees) || shape.employees < 0) throw new RangeError(`employees must be a non-negative integer, got ${shape.employees}`)
  const seed = opts.seed ?? 1
  const now = opts.now ?? (() => new Date())
  const companies = new Map<string, SimulatedCompany>()
  const faults = new FaultQueue()
  const requestLog: RequestLogEntry[] = []
  const timers = new Set<NodeJS.Timeout>()

  const integration = (id: string): SimulatedCompany => {
    let company = companies.get(id)
    if (!company) {
      company = new SimulatedCompany(seedFor(seed, id), shape, now)
      companies.set(id, company)
    }
    return company
  }
  const churn = new Churn(() => {
    for (const company of companies.values()) company.randomChange()
  })
  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, ms)
      timers.add(timer)
    })
  const reconnect = (fromId: string, toId: string): SimulatedCompany => {
    const copy = integration(fromId).reconnectedCopy(seedFor(seed, toId))
    companies.set(toId, copy)
    return copy
  }
  const control = {
    integration,
    reconnect,
    injectFault: (fault: SimulatorFault) => faults.inject(fault),
    clearFaults: () => faults.clear(),
    startChurn: (rate: number) => churn.start(rate),
    stopChurn: () => churn.stop(),
    requestLog,
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator.local')
    const handled = url.pathname.startsWith(CONTROL_PATH)
      ? handleControlRequest(req, res, url, control)
      : url.pathname.startsWith(BASE_PATH + '/')
        ? handleKomboRequest(req, res, url, { integration, faults, requestLog, delay })
        : Promise.resolve(sendJson(res, 404, { status: 'error', error: { code: null, title: 'Not found.', message: `No endpoint ${url.pathname}.`, log_url: null } }))
    handled.catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { status: 'error', error: { code: 'PLATFORM.UNKNOWN_ERROR', title: 'Simulator bug.', message: String(err), log_url: null } })
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve())
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address

  return {
    url: `http://${host}:${address.port}${BASE_PATH}`,
    ...control,
    close: async () => {
      churn.stop()
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    },
  }
}
