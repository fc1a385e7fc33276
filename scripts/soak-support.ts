// The chaos soak's plumbing (scripts/soak.ts): its tenants, a teardown list, a seeded random
// source, a broker that can be killed -9 and started again, and the read-API comparison of users.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, startKafka, type RunningKafka } from '../infra/local-stack.ts'

export const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const TENANTS = ['acme', 'globex', 'initech'] as const
export const tokenOf = (tenant: string) => `soak-${tenant}-token-0123456789`
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Stop functions, run last-first. */
export class Teardown {
  private fns: Array<() => unknown> = []
  teardown(fn: () => unknown) {
    this.fns.push(fn)
  }
  async run() {
    for (const fn of this.fns.reverse()) await Promise.resolve().then(fn).catch(() => {})
  }
}

export function seeded(seed: number) {
  let state = seed >>> 0 || 1
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  return { random, between: (lo: number, hi: number) => Math.round(lo + random() * (hi - lo)) }
}

export function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/** A broker that can be killed -9 and started again on its port and log directory. */
export async function killableKafka(td: Teardown) {
  const options = { dataDir: mkdtempSync(join(tmpdir(), 'kombo-sync-soak-kafka-')), port: await freePort(), cacheDir: process.env.KOMBO_SYNC_STACK_DIR || undefined }
  let running: RunningKafka | null = await startKafka(options)
  const brokers = running.brokers
  td.teardown(async () => {
    await running?.stop()
    rmSync(options.dataDir, { recursive: true, force: true })
  })
  return {
    brokers,
    async kill9() {
      const r = running
      running = null
      if (!r) return
      try {
        process.kill(r.pid, 'SIGKILL')
      } catch {
        /* already gone */
      }
      await r.stop()
    },
    async start() {
      running ??= await startKafka(options)
    },
  }
}


export type User = Record<string, unknown> & { externalId: string }

export async function allUsers(apiUrl: string, tenant: string): Promise<User[] | null> {
  const users: User[] = []
  let cursor: string | null = null
  try {
    do {
      const res = await fetch(`${apiUrl}/v1/tenants/${tenant}/users?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        headers: { authorization: `Bearer ${tokenOf(tenant)}` },
        signal: AbortSignal.timeout(10_000),
      })
      if (res.status !== 200) return null
      const page = (await res.json()) as { data: User[]; next: string | null }
      users.push(...page.data)
      cursor = page.next
    } while (cursor)
  } catch {
    return null
  }
  return users
}

/** What must equal the clean sync: everything but the invite's timing (when the clock happened to run). */
const comparable = (u: User) => JSON.stringify({ ...u, invite: undefined })

export function diffUsers(tenant: string, actual: User[], expected: User[]): string[] {
  const got = new Map(actual.map((u) => [u.externalId, u]))
  const out: string[] = []
  for (const e of expected) {
    const a = got.get(e.externalId)
    if (!a) out.push(`${tenant}/${e.externalId}: missing`)
    else if (comparable(a) !== comparable(e)) {
      const fields = Object.keys(e).filter((k) => k !== 'invite' && JSON.stringify(a[k]) !== JSON.stringify(e[k]))
      out.push(`${tenant}/${e.externalId}: differs in ${fields.map((k) => `${k} ${JSON.stringify(a[k])} (clean sync: ${JSON.stringify(e[k])})`).join(', ').slice(0, 600)}`)
    }
    got.delete(e.externalId)
  }
  for (const id of got.keys()) out.push(`${tenant}/${id}: a user the clean sync does not have`)
  return out
}

/**
 * When the views never matched the clean sync: which users differ (a few), and each role process
 * (running or exited, and its last output at LOG_LEVEL warn), so that a stuck role says so. A CI
 * run once ended 150 users behind under heavy load with nothing to tell which role had stopped.
 */
export function logRolesAtTimeout(log: (line: string) => void, roles: Record<string, Array<{ proc: { exitCode: number | null; signalCode: string | null; pid?: number }; output(): string }>>, lost: string[]): void {
  log(`not quiet at the deadline: ${lost.length} users missing or different; first: ${lost.slice(0, 5).map((l) => l.slice(0, 300)).join(' | ')}`)
  for (const [role, children] of Object.entries(roles)) {
    children.forEach((child, i) => {
      const state = child.proc.exitCode !== null || child.proc.signalCode !== null ? `exited (${child.proc.exitCode ?? child.proc.signalCode})` : `running (pid ${child.proc.pid})`
      log(`${role} ${i}: ${state}; last output:\n${child.output().slice(-1500) || '(none)'}`)
    })
  }
}
