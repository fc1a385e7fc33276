// Dead letters for operators (the `dead-letters` and `redrive` commands) and for the read API's
// dead-letter routes: which tenant a letter belongs to, and re-driving letters into the change log.
import type { ChangeEnvelope } from '../schemas/envelope.ts'
import type { DeadLetter } from '../producers/changelog/port.ts'
import type { Stores } from './stores.ts'

/** The envelope inside a dead letter's bytes: plain JSON, or Schema-Registry framed JSON. */
export function envelopeOf(letter: DeadLetter): ChangeEnvelope {
  const raw = letter.raw
  const json = raw.length > 5 && raw[0] === 0 ? raw.subarray(5) : raw
  return JSON.parse(json.toString('utf8')) as ChangeEnvelope
}

/** The dead letters of one tenant: their key is `tenant:komboId`. */
export const belongsToTenant = (letter: DeadLetter, tenant: string): boolean => letter.key?.startsWith(`${tenant}:`) ?? false

/**
 * Publishes dead letters again (all pending, or the given ids; only `tenant`'s when given): the
 * original bytes go back into the change log and the processor decides afresh, so a record whose
 * cause was fixed (a tenant added, a mapping corrected) flows once; one still broken is
 * dead-lettered again.
 */
export async function redriveDeadLetters(
  stores: Pick<Stores, 'deadLetters' | 'changeLog'>,
  ids: string[] | null,
  filter: { tenant?: string } = {},
  /** After each letter (re-driven or failed): how many of how many are through (the command's progress line). */
  onProgress?: (p: { done: number; total: number }) => void,
): Promise<{ redriven: string[]; failed: Array<{ id: string; reason: string }> }> {
  const letters = (await stores.deadLetters.list({ includeRedriven: false })).filter(
    (l) => (ids === null || ids.includes(l.id)) && (filter.tenant === undefined || belongsToTenant(l, filter.tenant)),
  )
  const redriven: string[] = []
  const failed: Array<{ id: string; reason: string }> = []
  const report = () => onProgress?.({ done: redriven.length + failed.length, total: letters.length })
  report()
  for (const letter of letters) {
    await redriveOne(stores, letter, redriven, failed)
    report()
  }
  return { redriven, failed }
}

/** One letter: published again and marked, or why not (into `failed`). */
async function redriveOne(
  stores: Pick<Stores, 'deadLetters' | 'changeLog'>,
  letter: DeadLetter,
  redriven: string[],
  failed: Array<{ id: string; reason: string }>,
): Promise<void> {
  if (letter.origin.stage === 'poller') {
    // Rejected before it became a change (NUL in its id, too deep, too big): nothing to publish
    // again; Kombo must send it fixed, and the next poll reads it.
    failed.push({ id: letter.id, reason: 'rejected at the poller (not a change): fix the record in Kombo; the next poll reads it' })
    return
  }
  if (letter.rawSize > letter.raw.length) {
    failed.push({ id: letter.id, reason: `only the first ${letter.raw.length} of ${letter.rawSize} bytes were kept; fix the record in Kombo instead` })
    return
  }
  let envelope: ChangeEnvelope
  try {
    envelope = envelopeOf(letter)
  } catch (err) {
    failed.push({ id: letter.id, reason: `not JSON: ${(err as Error).message}` })
    return
  }
  await stores.changeLog.publish([envelope])
  await stores.deadLetters.markRedriven(letter.id)
  redriven.push(letter.id)
}
