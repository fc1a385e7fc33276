// Deterministic event ids: the same decision taken twice (a retried batch, a redelivered Kafka
// record) yields the same ids, so the event store recognises the second append as a duplicate.
import { v5 as uuidv5 } from 'uuid'

/** Fixed namespace for kombo-sync event ids. Never change it: published ids depend on it. */
export const EVENT_ID_NAMESPACE = '7b0e3c52-4f0a-5c8e-9d61-2f3b8a1c6e40'

/**
 * `sourceVersion` is what makes the decision unique within the stream: the record's `changed_at`,
 * for events caused by a date being reached that date (qualified by the source version it was
 * decided on, so a date reached again after a correction gets a new id), or a command id.
 */
export function eventId(tenant: string, stream: string, sourceVersion: string, eventType: string): string {
  return uuidv5(`${tenant}|${stream}|${sourceVersion}|${eventType}`, EVENT_ID_NAMESPACE)
}
