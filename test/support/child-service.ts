// Runs `kombo-sync all` (or one role) as a real child process (so it can be killed with SIGKILL) and captures
// everything it writes, for crash and secret-scanning tests.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface ChildService {
  proc: ChildProcess
  /** The read API's URL, from the "kombo-sync is running: …" line ('' for a role without the API). */
  url: string
  /** Everything written so far to stdout and stderr. */
  output(): string
  /** SIGKILL: no shutdown code runs. Resolves when the process is gone. */
  kill9(): Promise<void>
  /** SIGTERM: graceful stop. Resolves with the exit code. */
  stop(): Promise<number | null>
}

export class ChildStartError extends Error {
  override name = 'ChildStartError'
  constructor(message: string, readonly output: string) {
    super(`${message}\n--- child output ---\n${output.slice(-4000)}`)
  }
}

/** `nodeFlags`: node's own flags for the child, before the script (e.g. runtime/roles/heap-limits.ts's). */
export async function startChildService(env: Record<string, string>, timeoutMs = 60_000, role = 'all', nodeFlags: string[] = []): Promise<ChildService> {
  const proc = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', join(root, 'bin', 'kombo-sync.ts'), role], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString('utf8')))
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString('utf8')))
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL') // not left running behind a failed test
      reject(new ChildStartError(`no URL line within ${timeoutMs} ms`, out))
    }, timeoutMs)
    const check = () => {
      const m = /kombo-sync is running: (http:\/\/\S+|role )/.exec(out)
      if (m) {
        clearTimeout(timer)
        proc.stdout!.off('data', check)
        resolve(m[1].startsWith('http') ? m[1] : '')
      }
    }
    proc.stdout!.on('data', check)
    exited.then((code) => {
      clearTimeout(timer)
      reject(new ChildStartError(`exited with code ${code} before it was running`, out))
    })
  })
  return {
    proc,
    url,
    output: () => out,
    async kill9() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
      await exited
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
      return exited
    },
  }
}
