// Tenant API tokens: random, shown once when issued, stored only as their sha256.
import { createHash, randomBytes } from 'node:crypto'

export interface IssuedToken {
  id: string
  /** The bearer token itself: returned to the operator once, never stored or logged. */
  token: string
  sha256: string
}

export const tokenSha256 = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex')

export function newTenantToken(): IssuedToken {
  const token = `kst_${randomBytes(24).toString('base64url')}`
  return { id: `tok_${randomBytes(6).toString('hex')}`, token, sha256: tokenSha256(token) }
}
