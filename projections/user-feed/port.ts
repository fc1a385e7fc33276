// Where the user feed goes. Adapter: kafka.ts (`learnamp.user-events.v1`). Another sink (a SQL
// table, a webhook) only has to resolve `publish` once the events are durably accepted.
import type { UserFeedEvent } from '../../schemas/user-feed.ts'
import { KomboSyncError } from '../../errors/kombo-sync-error.ts'

export interface UserFeedSink {
  /**
   * Durably publishes the events, one user's events in the given order. Resolves only when all
   * were acknowledged; the publisher moves its checkpoint after that, never before.
   */
  publish(events: UserFeedEvent[]): Promise<void>
  close(): Promise<void>
}

/** The publisher's position in the event store (the view database's `projection_checkpoints`). */
export interface FeedCheckpointStore {
  checkpoint(name: string): Promise<bigint | null>
  setCheckpoint(name: string, position: bigint | null): Promise<void>
}

/** Publishing the feed failed. `retriable` says whether trying again can help (a broker hiccup can; an event its schema rejects cannot). */
export class UserFeedPublishError extends KomboSyncError {
  override name = 'UserFeedPublishError'
  constructor(message: string, readonly retriable: boolean, options?: { cause?: unknown }) {
    super(message, options)
  }
}
