// A throw-away database on the PostgreSQL server of the machine (TEST_DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/postgres), created per test and dropped afterwards.
import pg from 'pg'
import { randomBytes } from 'node:crypto'

const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export async function testPostgresUrl(t: { teardown: (fn: () => unknown) => void }): Promise<string> {
  const name = `kombo_sync_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: adminUrl })
    await c.connect()
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await c.end()
  })
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}
