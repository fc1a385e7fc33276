// The pure domain core: a decider (decide, evolve, initialState) per stream kind, and their registry. No I/O.
export * from './decider.ts'
export * from './event-ids.ts'
export * from './employee-facts.ts'
export * from './employee-state.ts'
export * from './employee-diff.ts'
export * from './employment.ts'
export {
  decideEmployeeEvents,
  decideEmployeeClockEvents,
  decideManualInvite,
  employeeDecider,
  type EmployeeCommand,
  InviteNotAllowedError,
  type DecidedEvent,
  type EmployeeDecisionContext,
  type InviteRefusal,
} from './employee.ts'
export * from './entity.ts'
export * from './stream-kinds.ts'
export { deepEqual, normaliseValue, changedFields, isPurgedRecord } from './record-diff.ts'
export * from './hr-dates.ts'
