// The read API's tenant authenticator over the TenantDirectory: rebuilt whenever the directory's
// version moves, so a token issued through the operator API works, and a revoked one (or every
// token of an offboarded tenant) is refused, within a directory refresh — in every API process.
import { createTenantAuthenticator } from '../api/auth/tenant-tokens.ts'
import type { TenantAuthenticator } from '../api/ports.ts'
import type { TenantDirectory } from './directory.ts'

export function directoryAuthenticator(directory: TenantDirectory): TenantAuthenticator {
  let built: { version: bigint; authenticator: TenantAuthenticator } | null = null
  const current = () => {
    if (!built || built.version !== directory.version) {
      const hashes = new Map<string, string[]>()
      for (const t of directory.list()) if (t.status !== 'offboarded') hashes.set(t.id, [])
      for (const k of directory.tokens()) hashes.get(k.tenant)?.push(k.sha256)
      built = {
        version: directory.version,
        authenticator: createTenantAuthenticator([...hashes].map(([id, tokenSha256]) => ({ id, tokenSha256 }))),
      }
    }
    return built.authenticator
  }
  return { authenticate: (tenant, token) => current().authenticate(tenant, token) }
}
