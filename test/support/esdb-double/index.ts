// Test double of EventStoreDB (see README.md): start one per test, point the real client at it.
export { startEsdbDouble, type EsdbDouble, type EsdbDoubleOptions } from './server.ts'
