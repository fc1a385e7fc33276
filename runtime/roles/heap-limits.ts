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
// The api role (2026-12-06): uncapped, listing a 100k company page by page through the view cache
// took it from 213 MB (10k) to 368 MB VmHWM, most of it garbage V8 kept; its live heap is ~50 MB
// plus the view cache's 16 Mi chars (api/view-cache.ts). Listing 100k users twice through the cache
// in one process (PostgreSQL views): VmHWM 93 -> 221 MB uncapped, 91 -> 150 MB with 128 (96 gave
// the same), in the same time; 10k users: 134 MB. docs/notes/memory-2026-12-06.md.
// 160 for the processor and projector (2026-12-06): at 256 their heaps kept growing with the
// length of the sync while the live heap stayed bounded (heap snapshots at 50k, mid-sync: processor
// 75 MB, projector 91 MB live; heapUsed at most ~110 / ~130 MB between collections), so the 100k
// sync ended 22-41 % above the 10k peak (332 / 322 MB VmHWM). 160 is above what the 10k sync grows
// to (~90-100 MB of old space) and leaves ~70 MB over the live heap.
export const ROLE_MAX_OLD_SPACE_MB = { processor: 160, projector: 160, api: 128 } as const

export type CappedRole = keyof typeof ROLE_MAX_OLD_SPACE_MB

/** The node flag that applies the role's cap; '' for a role without one. */
export function heapLimitFlag(role: string): string {
  const mb = (ROLE_MAX_OLD_SPACE_MB as Record<string, number | undefined>)[role]
  return mb === undefined ? '' : `--max-old-space-size=${mb}`
}
