// The one base of kombo-sync's own errors: each says whether trying again can help (`retriable`,
// the one spelling), and carries its context (tenant, entity, …) as fields of its own class.
// Callers match by class or by `name`, which is the class's name.
export abstract class KomboSyncError extends Error {
  /** Whether the same operation may succeed if tried again later (a store back, a lock released). */
  abstract readonly retriable: boolean

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}
