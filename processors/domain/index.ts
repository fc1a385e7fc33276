// The pure domain core: fold (evolve) and decide for every stream kind. No I/O.
export * from './event-ids.ts'
export * from './employee-state.ts'
export * from './employee-diff.ts'
export * from './employment.ts'
export {
  decideEmployeeEvents,
  decideEmployeeClockEvents,
  decideManualInvite,
  InviteNotAllowedError,
  type DecidedEvent,
  type EmployeeDecisionContext,
  type InviteRefusal,
} from './employee.ts'
export * from './entity.ts'
export { deepEqual, normaliseValue, changedFields, isPurgedRecord } from './record-diff.ts'
export * from './hr-dates.ts'
