// Per-tenant bearer tokens, kept only as SHA-256 hashes (configuration never holds the token
// itself). Every request compares the presented token's hash with every known hash, in constant
// time and without stopping at the first match, so response timing says nothing about which
// tenant or token was close.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { TenantAuthenticator, TenantAuthResult } from '../ports.ts'
import { KomboSyncError } from '../../errors/kombo-sync-error.ts'

export interface TenantTokenConfig {
  id: string
  /** Hex SHA-256 digests of the tenant's valid tokens (several, so tokens can be rotated). */
  tokenSha256: string[]
}

export class InvalidTokenHashError extends KomboSyncError {
  override name = 'InvalidTokenHashError'
  readonly retriable = false
  constructor(readonly tenant: string) {
    super(`tenant ${tenant}: every tokenSha256 must be 64 hex characters (a SHA-256 digest of the token)`)
  }
}

export const sha256Hex = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex')

export function createTenantAuthenticator(tenants: TenantTokenConfig[]): TenantAuthenticator {
  const known = new Set(tenants.map((t) => t.id))
  const digests: Array<{ tenant: string; digest: Buffer }> = []
  for (const t of tenants) {
    for (const hex of t.tokenSha256) {
      if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new InvalidTokenHashError(t.id)
      digests.push({ tenant: t.id, digest: Buffer.from(hex, 'hex') })
    }
  }

  return {
    authenticate(tenant: string, bearerToken: string): TenantAuthResult {
      const presented = createHash('sha256').update(bearerToken, 'utf8').digest()
      let ownsTenant = false
      let validSomewhere = false
      for (const { tenant: owner, digest } of digests) {
        // Both sides are 32-byte digests, so timingSafeEqual never throws on length.
        const match = timingSafeEqual(presented, digest)
        validSomewhere ||= match
        ownsTenant ||= match && owner === tenant
      }
      if (ownsTenant) return 'ok'
      if (!validSomewhere) return 'invalid_token'
      return known.has(tenant) ? 'forbidden' : 'unknown_tenant'
    },
  }
}
