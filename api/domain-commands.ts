// The adapter between the domain's commands and the API's ports: the domain throws its own errors
// (an invite its policy forbids, an employee the tenant never had), the routes know only the API
// port's errors (api/ports.ts), which they turn into 404/409 answers. The mapping lives here, on
// the API's side, so the composition root only plugs the command in.
import { InviteNotAllowedError as DomainInviteNotAllowedError } from '../processors/domain/employee.ts'
import { EmployeeNotFoundError } from '../processors/commands/erase-employee.ts'
import { InviteNotAllowedError, UserNotFoundError, type ErasureReceipt, type ErasureRequest, type PersonalDataEraser, type UserCommands } from './ports.ts'

type InviteCommand = (command: { tenant: string; employeeId: string; actor: string }) => Promise<{ status: 'invited' }>

/** UserCommands over the domain's invite command, with its refusals as the API's errors. */
export function userCommandsOver(invite: InviteCommand): UserCommands {
  return {
    async inviteUser(tenant, externalId, actor) {
      try {
        return await invite({ tenant, employeeId: externalId, actor })
      } catch (err) {
        if (err instanceof DomainInviteNotAllowedError) {
          if (err.reason === 'unknown_employee') throw new UserNotFoundError(tenant, externalId)
          throw new InviteNotAllowedError(tenant, externalId, err.reason.replaceAll('_', ' '))
        }
        throw err
      }
    },
  }
}

/** PersonalDataEraser over the domain's erasure command, an unknown employee as UserNotFoundError. */
export function eraserOver(erase: (request: ErasureRequest) => Promise<ErasureReceipt>): PersonalDataEraser {
  return {
    async eraseEmployee(request) {
      try {
        return await erase(request)
      } catch (err) {
        if (err instanceof EmployeeNotFoundError) throw new UserNotFoundError(request.tenant, request.employeeId)
        throw err
      }
    },
  }
}
