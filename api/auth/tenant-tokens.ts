// Per-tenant bearer tokens, kept only as SHA-256 hashes (configuration never holds the token
// itself). A request's token is hashed and the digest looked up in a map: one hash and one lookup
// per request, whatever the number of tenants and tokens. A lookup keyed by the digest leaks at
// most how many leading bytes of the *digest* matched a stored one, and finding a token with a
// chosen digest prefix is a preimage search: the timing says nothing usable about tokens.
import { createHash } from 'node:crypto'
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
  // digest (lower-case hex) → the tenants holding it (one, unless configuration repeats a token)
  const owners = new Map<string, Set<string>>()
  for (const t of tenants) {
    for (const hex of t.tokenSha256) {
      if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new InvalidTokenHashError(t.id)
      const digest = hex.toLowerCase()
      const set = owners.get(digest) ?? new Set<string>()
      set.add(t.id)
      owners.set(digest, set)
    }
  }

  return {
    authenticate(tenant: string, bearerToken: string): TenantAuthResult {
      const holders = owners.get(sha256Hex(bearerToken))
      if (!holders) return 'invalid_token'
      if (holders.has(tenant)) return 'ok'
      return known.has(tenant) ? 'forbidden' : 'unknown_tenant'
    },
  }
}
