// The GDPR erasure command wired to this process's stores, built in one place for both callers:
// the read API's erasure route and the `erase` operator command.
import { eraseEmployee, type EraseEmployeeCommand } from '../processors/commands/erase-employee.ts'
import { purgeUserFromViewsIn } from '../projections/viewstore/erase-user.ts'
import type { Stores } from './stores.ts'

export function eraserOf(stores: Pick<Stores, 'eventStore' | 'personalDataKeys'>) {
  const deps = { store: stores.eventStore, keys: stores.personalDataKeys, purgeViews: purgeUserFromViewsIn }
  return (command: EraseEmployeeCommand) => eraseEmployee(deps, command)
}
