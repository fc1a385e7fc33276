// Entity states carried from one rebuild batch to the next instead of written by every batch.
//
// A rebuild's batch (50,000 events) touches most of a company's employees, so every batch wrote
// and read back nearly every state (~4.5 KB of JSON per employee): at 1M events over 20k
// employees, each state was written ~20 times. Carried, a state is written once per round — when
// the carried states reach `maxStates`, and at the end of the rebuild — and a batch reads the
// states it needs from memory first.
//
// Crash consistency: the checkpoint moves only in a batch that writes every carried state (the
// runner asks `settle`), so the persisted checkpoint never runs ahead of the persisted states. The
// batches in between commit their users, documents and change-log rows without moving it: after a
// crash the projector resumes from the last settled checkpoint and applies those events again onto
// the states as they were then — the change log keeps its rows once (ON CONFLICT DO NOTHING) and
// the documents are recomputed from the same states, as a retried batch is.
//
// A batch's states join the carried ones only after its transaction commits (`commit`): a batch
// that fails and is retried starts again from the carried states as they were.
import type { ViewTransaction } from './viewstore/port.ts'
import { streamName } from '../schemas/streams.ts'

type StateRow = Parameters<ViewTransaction['saveStates']>[1][number]
type Carried = { tenant: string; row: StateRow }
const keyOf = (tenant: string, category: string, id: string) => `${tenant}\u0000${category}\u0000${id}`

/** Which streams have been erased since (read in the batch's transaction, which erasures are ordered against). */
export type ErasedStreams = (tx: ViewTransaction, streams: string[]) => Promise<Set<string>>

export class CarriedStates {
  private readonly carried = new Map<string, Carried>()

  /** `maxStates`: how many states may wait in memory before a batch writes them all. */
  constructor(private readonly maxStates: number) {}

  get size(): number {
    return this.carried.size
  }

  /**
   * One batch's view of the states: carried ones from memory, the rest from `tx`; its saves staged.
   * First drops the carried states of employees erased since (checked in the batch's transaction,
   * which erasures are ordered against): an erasure deletes the written state, so a carried copy
   * must neither serve as a manager's name nor be written back. The batch's own events of erased
   * streams are left out by the runner.
   */
  async stage(tx: ViewTransaction, erasedIn: ErasedStreams | null): Promise<StagedStates> {
    let erased = new Set<string>()
    if (erasedIn) {
      const employees = new Map<string, string>() // stream name → carried key
      for (const [key, c] of this.carried) if (c.row.category === 'employee') employees.set(streamName('employee', c.tenant, c.row.id), key)
      if (employees.size > 0) erased = await erasedIn(tx, [...employees.keys()])
      for (const stream of erased) {
        const key = employees.get(stream)
        if (key !== undefined) this.carried.delete(key)
      }
    }
    return new StagedStates(tx, this.carried, this.maxStates, erased)
  }

  /** Forgets what is carried (the runner stopped: the next start resumes from the settled checkpoint). */
  clear(): void {
    this.carried.clear()
  }
}

export class StagedStates {
  private readonly staged = new Map<string, Carried>()
  private settled = false
  /** The transaction as the projection sees it: states read and saved through this batch. */
  readonly tx: ViewTransaction

  constructor(
    private readonly inner: ViewTransaction,
    private readonly carried: Map<string, Carried>,
    private readonly maxStates: number,
    /** The streams of carried employees found erased (their states dropped): what else is carried for them goes too. */
    readonly erased: ReadonlySet<string> = new Set(),
  ) {
    this.tx = Object.assign(Object.create(inner) as ViewTransaction, {
      loadStates: (tenant: string, category: StateRow['category'], ids: string[]) => this.loadStates(tenant, category, ids),
      saveStates: (tenant: string, rows: StateRow[]) => this.saveStates(tenant, rows),
    })
  }

  private async loadStates(tenant: string, category: StateRow['category'], ids: string[]): ReturnType<ViewTransaction['loadStates']> {
    const out: Awaited<ReturnType<ViewTransaction['loadStates']>> = new Map()
    const missing: string[] = []
    for (const id of ids) {
      const key = keyOf(tenant, category, id)
      const found = this.staged.get(key) ?? this.carried.get(key)
      if (found) out.set(id, { state: found.row.state, decidedAt: found.row.decidedAt })
      else missing.push(id)
    }
    for (const [id, row] of await this.inner.loadStates(tenant, category, missing)) out.set(id, row)
    return out
  }

  private saveStates(tenant: string, rows: StateRow[]): Promise<void> {
    for (const row of rows) this.staged.set(keyOf(tenant, row.category, row.id), { tenant, row })
    return Promise.resolve()
  }

  /**
   * Writes every carried and staged state when they are `maxStates` or more, or when `force`d;
   * true when it did (the checkpoint may then move to this batch's position).
   */
  async settle(force: boolean): Promise<boolean> {
    // Every batch asks: count the union before building it (up to maxStates entries).
    if (!force && this.unionSize() < this.maxStates) return false
    const all = new Map([...this.carried, ...this.staged])
    const byTenant = new Map<string, StateRow[]>()
    for (const { tenant, row } of all.values()) {
      const rows = byTenant.get(tenant)
      if (rows) rows.push(row)
      else byTenant.set(tenant, [row])
    }
    // Keys of a Map: no state repeats within a tenant's multi-row upsert.
    for (const [tenant, rows] of byTenant) await this.inner.saveStates(tenant, rows)
    this.settled = true
    return true
  }

  /** Carried and staged states together, a state of both counted once. */
  private unionSize(): number {
    let n = this.carried.size
    for (const key of this.staged.keys()) if (!this.carried.has(key)) n++
    return n
  }

  /** After the batch's transaction committed: its states are carried (or, settled, all were written). */
  commit(): void {
    if (this.settled) {
      this.carried.clear()
      return
    }
    for (const [key, value] of this.staged) this.carried.set(key, value)
  }
}
