// Waits for a condition in tests without fixed sleeps: polls `check` until it returns true, and
// fails with `what` after `timeoutMs` (a generous bound, never an assertion about speed).
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/** Lets pending timers and I/O run, to give an unwanted delivery the chance to show up. */
export const settle = (ms = 100): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
