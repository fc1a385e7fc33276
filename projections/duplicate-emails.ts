// Users sharing a work email (case-insensitive) are flagged, never merged or guessed: the HR
// system has to be fixed, and until then both users carry the `duplicate_work_email` issue.
import type { LearnAmpUser } from '../schemas/learnamp.ts'

export const DUPLICATE_EMAIL = 'duplicate_work_email'

/** Returns the users whose duplicate flag must change, with the flag set or cleared. */
export function markDuplicateEmails(users: LearnAmpUser[]): LearnAmpUser[] {
  const holders = new Map<string, number>()
  for (const u of users) if (u.email) holders.set(u.email.toLowerCase(), (holders.get(u.email.toLowerCase()) ?? 0) + 1)
  const changed: LearnAmpUser[] = []
  for (const u of users) {
    const duplicate = u.email !== null && u.email !== undefined && (holders.get(u.email.toLowerCase()) ?? 0) > 1
    const flagged = u.issues.includes(DUPLICATE_EMAIL)
    if (duplicate === flagged) continue
    changed.push({ ...u, issues: duplicate ? [...u.issues, DUPLICATE_EMAIL] : u.issues.filter((i) => i !== DUPLICATE_EMAIL) })
  }
  return changed
}
