// A catch-up subscription to the event store that hands events on in batches and remembers how
// far it got. The projector and the user feed publisher are both one of these: they differ only in
// what a batch does and where the checkpoint lives (and the feed takes the projector's events while
// the two are level: follow()). A batch's handler must move the checkpoint
// itself, after (or atomically with) its effect; while it fails, the batch is retried with backoff
// and the subscription is held back, so nothing is skipped. A runner may hold a lock on its
// checkpoint while it runs (one runner per checkpoint), and a batch whose checkpoint moved under it
// (CheckpointConflictError) stops the runner for good instead of being retried.
import { setTimeout as sleep } from 'node:timers/promises'
import type { EventStore, RecordedEvent, Subscription, TenantShardFilter } from '../processors/eventstore/port.ts'
import { CheckpointConflictError, type CheckpointLock } from './viewstore/port.ts'
import { handleIsolatingPoison } from '../processors/poison-isolation.ts'
import { isDatabaseUnavailable } from '../sql/unavailable.ts'

/** Tries of a failing batch (and of each half) before it is split, when the runner can skip events. */
const POISON_AFTER_ATTEMPTS = 5
/**
 * Batches a follower may have waiting (the one being handled included) before it reads on its own
 * again (see follow()). One: events kept longer are promoted to the old space, the cost that sank a
 * memo of opened plaintexts (docs/benchmarks.md, 2026-12-08); with four, two 20k runs showed no gain.
 */
const FOLLOWER_BACKLOG = 1

export interface BatchedSubscriptionOptions {
  store: EventStore
  streamPrefixes: string[]
  /** The streams whose event data the runner reads (ReadAllOptions.decodes); default all. */
  decodes?: (streamName: string) => boolean
  /** Only these tenants' events, filtered by the store (ReadAllOptions.tenantShard); default all. */
  tenantShard?: TenantShardFilter
  batchSize?: number
  /** How long a partial batch may wait for more events before it is handled. */
  flushAfterMs?: number
  onError?: (err: Error) => void
}

export abstract class BatchedSubscription {
  /** Where the last run stopped (exclusive); null to start at the beginning. */
  protected abstract loadCheckpoint(): Promise<bigint | null>
  /**
   * Applies the batch and moves the checkpoint from `previous` (where this runner last left it) to
   * `position`; throws to have it retried.
   */
  protected abstract handleBatch(events: RecordedEvent[], position: bigint, previous: bigint | null): Promise<void>
  /**
   * Skips an event that keeps failing alone: records it with the reason and moves the checkpoint
   * past it (from `previous`), atomically. Absent: a failing batch is retried until it succeeds.
   */
  protected skipPoisoned?(event: RecordedEvent, err: Error, previous: bigint | null): Promise<void>
  /** The checkpoint's lock, taken before the checkpoint is read; null: this runner takes none. */
  protected lockCheckpoint(): Promise<CheckpointLock | null> {
    return Promise.resolve(null)
  }

  private subscription: Subscription | null = null
  /** Identifies the current own subscription's deliveries (null while following: see join()). */
  private subscriptionToken: object | null = null
  private buffer: RecordedEvent[] = []
  private flushTimer: NodeJS.Timeout | null = null
  private flushing: Promise<void> = Promise.resolve()
  private lastPosition: bigint | null = null
  /** The position of the last event the subscription delivered (handled or still buffered). */
  private lastReceived: bigint | null = null
  private failed: Error | null = null
  private stopping = false
  private lock: CheckpointLock | null = null
  /** Callers waiting for a position to be handled (caughtUp). */
  private waiters: Array<{ position: bigint; resolve: () => void; reject: (err: Error) => void }> = []
  /** The runner this one asked to follow (follow()), and whether it takes that runner's events now. */
  private leader: BatchedSubscription | null = null
  private followingNow = false
  /**
   * As a leader: the runners that asked to follow it, each with the position of the last event this
   * runner received that the follower wants (null: not known since this runner started).
   */
  private readonly followers = new Map<BatchedSubscription, { lastWanted: bigint | null }>()

  constructor(private readonly subscriptionOptions: BatchedSubscriptionOptions) {}

  /** Events handled together at most. */
  private get batchSize(): number {
    return this.subscriptionOptions.batchSize ?? 500
  }

  /** The position of the last event handled (and checkpointed). */
  get position(): bigint | null {
    return this.lastPosition
  }
  /** The position of the last event received: handled, or still waiting in the buffer. */
  get received(): bigint | null {
    return this.lastReceived
  }
  /** The last failure, until a batch succeeds again. */
  get error(): Error | null {
    return this.failed
  }

  /** Takes the checkpoint's lock (throws CheckpointLockedError when another runner holds it) and subscribes from it. */
  async start(): Promise<void> {
    this.lock ??= await this.lockCheckpoint()
    let after: bigint | null
    try {
      after = await this.loadCheckpoint()
    } catch (err) {
      await this.releaseLock()
      throw err
    }
    this.lastPosition = after
    this.lastReceived = after
    this.buffer = [] // everything after the checkpoint is delivered again
    this.failed = null
    this.stopping = false
    // What followers wanted of the last run is not known for this one.
    for (const state of this.followers.values()) state.lastWanted = null
    this.leader?.followers.set(this, { lastWanted: null })
    this.open()
  }

  /**
   * Takes `leader`'s events instead of reading the store while the two are level: the projector's
   * views and the user feed read the same employee events, and each read and opened them itself
   * (the projector's CPU in a 20k sync 13.9-19.1 s, 12.9-14.0 s following: docs/benchmarks.md
   * 2026-12-08). Level means this runner has received exactly the events it wants up to where the
   * leader has: from then on the leader hands it every later event it wants, in order, and its own
   * subscription is closed. It reads on its own again, from the last event it received, whenever
   * it falls behind (more than `FOLLOWER_BACKLOG` batch waiting: a slow or failing sink never holds
   * the leader back) or the leader stops or fails a batch, so nothing is skipped or repeated either
   * way, and neither waits for the other's trouble. Only a leader that reads every stream this
   * runner wants, decoded: false (and no following) otherwise.
   */
  follow(leader: BatchedSubscription): boolean {
    const mine = this.subscriptionOptions
    const theirs = leader.subscriptionOptions
    const covered = mine.streamPrefixes.every((p) => theirs.streamPrefixes.some((q) => p.startsWith(q)))
    if (!covered || theirs.decodes || theirs.tenantShard || mine.tenantShard || leader === this) return false
    this.leader = leader
    leader.followers.set(this, { lastWanted: null })
    return true
  }

  /** Whether this runner takes its leader's events now (rather than reading the store). */
  get following(): boolean {
    return this.followingNow
  }

  private wants(event: RecordedEvent): boolean {
    if (this.subscriptionOptions.decodes && !this.subscriptionOptions.decodes(event.streamName)) return false
    return this.subscriptionOptions.streamPrefixes.some((p) => event.streamName.startsWith(p))
  }

  /** As the leader, after receiving `event`: hands it to the followers taking events, and joins those now level. */
  private offerToFollowers(event: RecordedEvent): void {
    for (const [follower, state] of this.followers) {
      if (!follower.wants(event)) continue
      state.lastWanted = event.position
      if (follower.followingNow) follower.take(event)
      else follower.joinIfLevel()
    }
  }

  /** As a follower: an event from the leader, queued without holding the leader up. */
  private take(event: RecordedEvent): void {
    if (!this.receive(event)) return
    this.enqueue(event).catch(() => {})
    if (this.buffer.length > FOLLOWER_BACKLOG * this.batchSize) this.readAlone()
  }

  /**
   * Marks `event` received; false when it was already (its own subscription and the leader may
   * both deliver an event around a hand-over: each is taken once).
   */
  private receive(event: RecordedEvent): boolean {
    if (this.lastReceived !== null && event.position <= this.lastReceived) return false
    this.lastReceived = event.position
    return true
  }

  /** Joins the leader if this runner has received exactly what the leader has that it wants. */
  private joinIfLevel(): void {
    const lastWanted = this.leader?.followers.get(this)?.lastWanted
    if (!this.followingNow && lastWanted !== undefined && lastWanted !== null && lastWanted === this.lastReceived) this.join()
  }

  /** Level with the leader: its own subscription is closed and the leader's events come instead. */
  private join(): void {
    // Not while batches are waiting here: it would fall behind again at once.
    if (this.stopping || this.followingNow || this.buffer.length > this.batchSize) return
    this.followingNow = true
    const own = this.subscription
    this.subscription = null
    this.subscriptionToken = null
    // Not awaited: this may run inside the own subscription's handler, which close() waits for.
    // Whatever it still delivers is ignored (see open()).
    void own?.close().catch(() => {})
  }

  /** Reads the store on its own again, after the last event received (behind, or the leader stopped). */
  private readAlone(): void {
    if (!this.followingNow) return
    this.followingNow = false
    if (!this.stopping) this.open()
  }

  /** As a follower, stopping: the leader hands it nothing more (start() asks to follow again). */
  private leaveLeader(): void {
    this.followingNow = false
    this.leader?.followers.delete(this)
  }

  /** As the leader, stopping: every follower reads on its own (what each was handed stays queued there). */
  private releaseFollowers(): void {
    for (const [follower, state] of this.followers) {
      follower.readAlone()
      state.lastWanted = null
    }
  }

  /** Subscribes strictly after the last event received (buffered or handled), so nothing repeats. */
  private open(): void {
    const token = {}
    this.subscriptionToken = token
    const subscription = this.subscriptionOptions.store.subscribeToAll(
      {
        after: this.lastReceived ?? undefined,
        streamPrefixes: this.subscriptionOptions.streamPrefixes,
        decodes: this.subscriptionOptions.decodes,
        tenantShard: this.subscriptionOptions.tenantShard,
        onError: (err) => {
          this.fail(err)
          if (this.subscription === subscription) void this.reopen()
        },
      },
      (event) => {
        // A subscription closed when this runner joined its leader may still deliver: the leader does.
        if (this.subscriptionToken !== token) return Promise.resolve()
        // Handed over by the leader already (a subscription opened while it was doing so).
        if (!this.receive(event)) return Promise.resolve()
        if (this.followers.size > 0) this.offerToFollowers(event)
        // Level with the leader when it has already received this same event last.
        this.joinIfLevel()
        return this.enqueue(event)
      },
    )
    this.subscription = subscription
  }

  /**
   * The subscription ended on an error (the event store went away, a restart, a network cut): it
   * does not come back by itself. Wait with backoff until the store answers a read, then subscribe
   * again from the last event received.
   */
  private async reopen(): Promise<void> {
    // The followers do not wait for this runner to be back: they read on their own meanwhile.
    this.releaseFollowers()
    const dropped = this.subscription
    this.subscription = null
    await dropped?.close().catch(() => {})
    for (let attempt = 0; !this.stopping; attempt++) {
      await sleep(Math.min(5000, 200 * 2 ** attempt))
      // Stopping, or level with its leader meanwhile (the leader hands it the events now).
      if (this.stopping || this.followingNow) return
      try {
        await this.subscriptionOptions.store.readAll({ maxCount: 1 })
      } catch (err) {
        this.fail(err as Error)
        continue
      }
      this.open()
      // Reachable again; a batch still failing (e.g. the view database) keeps reporting itself.
      if (this.buffer.length === 0) this.failed = null
      return
    }
  }

  private fail(err: Error): void {
    // A leader whose batches fail (a poison event, its database) would hold its followers up.
    this.releaseFollowers()
    this.failed = err
    this.subscriptionOptions.onError?.(err)
  }

  private async enqueue(event: RecordedEvent): Promise<void> {
    this.buffer.push(event)
    const awaited = this.waiters.some((w) => event.position >= w.position)
    if (awaited || this.buffer.length >= this.batchSize) {
      await this.flush()
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null
        void this.flush()
      }, this.subscriptionOptions.flushAfterMs ?? 20)
    }
  }

  /**
   * Handles what is buffered, retrying with backoff until it succeeds or the subscription stops. A
   * runner that can skip an event (`skipPoisoned`) does not retry forever: after a few failed tries
   * the batch is split until the one event that keeps failing alone is skipped (recorded with the
   * reason), as long as the store answers — see processors/poison-isolation.ts.
   */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      while (this.buffer.length > 0) {
        // A copy: events keep arriving (into this.buffer) while the batch is handled.
        const events = this.buffer.slice()
        try {
          await handleIsolatingPoison(events, (part) => this.handlePart(part), {
            attempts: this.skipPoisoned ? POISON_AFTER_ATTEMPTS : Infinity,
            healthy: () => this.loadCheckpoint().then(() => true),
            unavailable: isDatabaseUnavailable,
            isTransient: (err) => err instanceof CheckpointConflictError,
            poisoned: (event, err) => this.skipPart(event, err),
            onError: (err) => this.fail(err),
            stopped: () => this.stopping,
          })
        } catch (err) {
          if (err instanceof CheckpointConflictError) return this.halt(err)
          return // stopping: the next start subscribes again from the checkpoint
        }
        this.buffer = this.buffer.slice(events.length)
        this.failed = null
      }
      // Level with the leader now that nothing waits here (join() refuses while batches wait).
      this.joinIfLevel()
    })
    return this.flushing
  }

  /** Runs `fn` between batches: after the one being handled, before any handled later. */
  protected betweenBatches<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.flushing.then(fn)
    this.flushing = run.then(
      () => {},
      () => {},
    )
    return run
  }

  private async handlePart(events: RecordedEvent[]): Promise<void> {
    const position = events[events.length - 1].position
    await this.handleBatch(events, position, this.lastPosition)
    this.moved(position)
  }

  private async skipPart(event: RecordedEvent, err: Error): Promise<void> {
    await this.skipPoisoned!(event, err, this.lastPosition)
    this.moved(event.position)
  }

  private moved(position: bigint): void {
    this.lastPosition = position
    this.failed = null
    this.settleWaiters()
  }

  /**
   * Resolves once every event up to `position` (inclusive) is handled and checkpointed; rejects if
   * the runner stops for good first. A waiter does not wait for the flush timer: what is buffered
   * is handled as soon as the position has arrived.
   */
  caughtUp(position: bigint): Promise<void> {
    if (this.lastPosition !== null && this.lastPosition >= position) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.waiters.push({ position, resolve, reject })
      if (this.lastReceived !== null && this.lastReceived >= position) void this.flush()
    })
  }

  private settleWaiters(): void {
    const done = this.waiters.filter((w) => this.lastPosition !== null && this.lastPosition >= w.position)
    this.waiters = this.waiters.filter((w) => !done.includes(w))
    for (const w of done) w.resolve()
  }

  /** Stops for good without handling the buffer: another writer owns the checkpoint now. */
  private async halt(err: Error): Promise<void> {
    this.stopping = true
    this.leaveLeader()
    this.releaseFollowers()
    this.buffer = []
    if (this.flushTimer) clearTimeout(this.flushTimer)
    this.flushTimer = null
    const subscription = this.subscription
    this.subscription = null
    // Not awaited: the halt may run inside the subscription's own handler (a flush it awaits), and
    // close() waits for that handler to return.
    void subscription?.close().catch(() => {})
    await this.releaseLock()
    for (const w of this.waiters.splice(0)) w.reject(err)
  }

  private async releaseLock(): Promise<void> {
    const lock = this.lock
    this.lock = null
    await lock?.release()
  }

  /** Stops the subscription, handles what was already received (one try) and releases the lock. */
  async stop(): Promise<void> {
    this.stopping = true // first: a close that reports an error must not reopen
    this.leaveLeader()
    this.releaseFollowers()
    await this.subscription?.close()
    this.subscription = null
    if (this.flushTimer) clearTimeout(this.flushTimer)
    this.flushTimer = null
    await this.flush()
    await this.releaseLock()
    const stopped = new Error('the subscription stopped before it reached the awaited position')
    for (const w of this.waiters.splice(0)) w.reject(stopped)
  }

  /** Forgets what is buffered (before a rebuild or replay from another position). */
  discardBuffer(): void {
    this.buffer = []
  }
}
