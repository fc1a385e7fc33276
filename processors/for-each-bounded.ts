// Bounded concurrency over a list: the processor's streams of a batch, an adapter's appends.

/** Runs `fn` over `items` with at most `limit` at a time; rejects with the first error once all started calls settled. */
export async function forEachBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failure: { err: unknown } | null = null
  const worker = async () => {
    while (failure === null && next < items.length) {
      const item = items[next++]
      try {
        await fn(item)
      } catch (err) {
        failure ??= { err }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  if (failure) throw (failure as { err: unknown }).err
}
