// V8's old-space cap of each role process, the bound on its heap that a role's design keeps it
// under. Measured at 10k employees (bench/roles.ts, heap snapshots after a full GC): the
// processor holds ~60 MB live and the projector ~70 MB (the stream-state and key caches are
// bounded by bytes, a batch by its size, a projector batch's user recompute by chunks), yet V8
// let their heaps grow to ~270 and ~340 MB of mostly garbage before collecting it, because no
// limit asked it to collect sooner. With the cap V8 collects before it grows past it. The
// launches pass it: docker-compose.yml's role commands (checked by heap-limits.test.ts) and the
// role-memory bench's children.
// 256 rather than 192: both kept the peak RSS at ~260-270 MB at 10k (192 also measured at 30k:
// 272 / 261 MB), but 192 cost the processor ~30 % more CPU in GC and leaves less headroom against
// an out-of-memory restart for a bigger batch or state than measured; 256 bounds the worst case
// near 420 MB (heap + ~160 MB of code, buffers and stacks). Raise it in the role's command if a
// tenant's states are larger than these.
export const ROLE_MAX_OLD_SPACE_MB = { processor: 256, projector: 256 } as const

export type CappedRole = keyof typeof ROLE_MAX_OLD_SPACE_MB

/** The node flag that applies the role's cap; '' for a role without one. */
export function heapLimitFlag(role: string): string {
  const mb = (ROLE_MAX_OLD_SPACE_MB as Record<string, number | undefined>)[role]
  return mb === undefined ? '' : `--max-old-space-size=${mb}`
}
