// The Kombo simulator: a Kombo-compatible HRIS API over seeded demo companies. See README.md.
export { startKomboSimulator, type KomboSimulator, type KomboSimulatorOptions } from './server.ts'
export { SimulatedCompany, SimulatedRecordNotFoundError, type RandomChange } from './company.ts'
export type { SimulatorFault } from './faults.ts'
export type { RequestLogEntry } from './kombo-routes.ts'
export type { SimRecord } from './generate-company.ts'
