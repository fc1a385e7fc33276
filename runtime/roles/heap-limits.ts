// V8's old-space cap of each role process, the bound on its heap that a role's design keeps it
// under. Measured at 10k employees (bench/roles.ts, heap snapshots after a full GC): the
// processor holds ~60 MB live and the projector ~70 MB (the stream-state and key caches are
// bounded by bytes, a batch by its size, a projector batch's user recompute by chunks), yet V8
// let their heaps grow to ~270 and ~340 MB of mostly garbage before collecting it, because no
// limit asked it to collect sooner. With the cap V8 collects before it grows past it. The
// launches pass it: docker-compose.yml's role commands (checked by heap-limits.test.ts) and the
// role-memory bench's children.
export const ROLE_MAX_OLD_SPACE_MB = { processor: 192, projector: 192 } as const

export type CappedRole = keyof typeof ROLE_MAX_OLD_SPACE_MB

/** The node flag that applies the role's cap; '' for a role without one. */
export function heapLimitFlag(role: string): string {
  const mb = (ROLE_MAX_OLD_SPACE_MB as Record<string, number | undefined>)[role]
  return mb === undefined ? '' : `--max-old-space-size=${mb}`
}
