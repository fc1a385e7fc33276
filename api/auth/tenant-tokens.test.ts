import t from 'tap'
import { createTenantAuthenticator, InvalidTokenHashError, sha256Hex } from './tenant-tokens.ts'

const authenticator = createTenantAuthenticator([
  { id: 'acme', tokenSha256: [sha256Hex('acme-old'), sha256Hex('acme-new')] },
  { id: 'globex', tokenSha256: [sha256Hex('globex-1').toUpperCase()] },
])

t.test('a tenant accepts each of its tokens (rotation)', async (t) => {
  t.equal(authenticator.authenticate('acme', 'acme-old'), 'ok')
  t.equal(authenticator.authenticate('acme', 'acme-new'), 'ok')
  t.equal(authenticator.authenticate('globex', 'globex-1'), 'ok', 'upper-case hex digests work too')
})

t.test('tokens of other tenants, unknown tenants and unknown tokens', async (t) => {
  t.equal(authenticator.authenticate('acme', 'globex-1'), 'forbidden')
  t.equal(authenticator.authenticate('initech', 'globex-1'), 'unknown_tenant')
  t.equal(authenticator.authenticate('acme', 'acme'), 'invalid_token')
  t.equal(authenticator.authenticate('initech', 'whatever'), 'invalid_token')
  t.equal(authenticator.authenticate('acme', ''), 'invalid_token')
})

t.test('configuration must hold digests, not tokens', async (t) => {
  t.throws(() => createTenantAuthenticator([{ id: 'acme', tokenSha256: ['plain-token'] }]), InvalidTokenHashError)
  const err = t.throws(() => createTenantAuthenticator([{ id: 'acme', tokenSha256: ['plain-token'] }])) as Error
  t.notMatch(err.message, 'plain-token', 'the offending value is not echoed')
})
