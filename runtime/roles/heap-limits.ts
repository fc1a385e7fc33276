// V8's old-space cap of each role process, the bound on its heap that a role's design keeps it
// under. Measured at 10k employees (bench/roles.ts, heap snapshots after a full GC): the
// processor holds ~60 MB live and the projector ~70 MB (the stream-state and key caches are
// bounded by bytes, a batch by its size, a projector batch's user recompute by chunks), yet V8
// let their heaps grow to ~270 and ~340 MB of mostly garbage before collecting it, because no
// limit asked it to collect sooner. With the cap V8 collects before it grows past it. The
// launches pass it: docker-compose.yml's role commands (checked by heap-limits.test.ts) and the
// role-memory bench's children.
// History: 256 was chosen first (192 kept the peak RSS at 10k and 30k the same, but cost the
// processor ~30 % more CPU in GC then). At 100k (2026-12-05) the processor and projector ended
// 22-41 % above their 10k peak (332 / 322 MB VmHWM): with 256 their heaps kept growing with the
// length of the sync while the live heap stayed bounded (heap snapshots at 50k mid-sync: processor
// 75 MB, projector 91 MB live; heapUsed at most ~110 / ~130 MB between collections). 160 is above
// the old space the 10k sync grows to (~90-100 MB) and leaves ~70 MB over the live heap. Raise it
// in the role's command if a tenant's states are larger than these.
// The api role: uncapped, listing a 100k company page by page through the view cache took it from
// 213 MB (10k) to 368 MB VmHWM; its live heap is ~50 MB plus the view cache (16 Mi chars,
// api/view-cache.ts). Listing 100k users twice through the cache in one process (PostgreSQL
// views; the cache's old 32 Mi chars, uncapped): VmHWM 96 -> 291 MB; 16 Mi uncapped 93 -> 221;
// 16 Mi with 128: 91 -> 150 (96 gave the same), in the same time; 10k users: 134 MB.
// docs/notes/memory-2026-12-06.md.
// The poller (uncapped until 2026-12-07): 242 MB VmHWM at 10k and 311-329 MB at 100k on the
// PostgreSQL event store (three runs, the code before and after that day's changes), over goal 2's
// 20 %; its own state is bounded (published versions 6 MB, recently published 14 MB, the budget's
// tail positions ~8 MB at most, two pages in flight), so the rest is garbage V8 had not collected.
export const ROLE_MAX_OLD_SPACE_MB = { poller: 160, processor: 160, projector: 160, api: 128 } as const

export type CappedRole = keyof typeof ROLE_MAX_OLD_SPACE_MB

/** The node flag that applies the role's cap; '' for a role without one. */
export function heapLimitFlag(role: string): string {
  const mb = (ROLE_MAX_OLD_SPACE_MB as Record<string, number | undefined>)[role]
  return mb === undefined ? '' : `--max-old-space-size=${mb}`
}

// How far the old space may grow past what the last full GC left live before V8 runs the next
// one. V8 bounds that factor by the heap's cap (MaxGrowingFactor in its heap-controller.cc): at
// most 1.3 under a cap of ~256 MB or less. With ~70-100 MB live a role ran a full GC (concurrent
// marking of the whole live heap) every 20-30 MB promoted, 17-41 of them in a 20k sync (poller
// 22-29, processor 17-19, projector 38-41), and the caps cost the roles ~25-30 % of their CPU
// against no cap at all. 1.5 (`--heap-growing-percent=50`) halves the poller's full GCs and cuts
// the processor's by a third and the projector's by a quarter, still bounded by the cap: 20k roles
// apart on the PostgreSQL event store, three alternating pairs (2026-12-07 night): the four roles'
// CPU 33.3-34.4 -> 26.6-32.1 s, the sync 31.9-35.9 -> 27.1-30.6 s, peak RSS per role unchanged
// (docs/benchmarks.md, "GC under the role caps"). A V8 flag that NODE_OPTIONS refuses: it goes on
// node's command line.
export const HEAP_GROWING_PERCENT = 50

/**
 * The node flags a role is launched with (docker-compose.yml's commands, the role-memory bench's
 * children): its cap and the growing factor above; none for a role without a cap.
 */
export function roleNodeFlags(role: string): string[] {
  const cap = heapLimitFlag(role)
  return cap ? [cap, `--heap-growing-percent=${HEAP_GROWING_PERCENT}`] : []
}
