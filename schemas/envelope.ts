// The Kafka / change-log envelope: one Kombo change record and where it came from.
import { z } from 'zod'
import { isoDateTime, KomboResource, komboRecordSchemas, type KomboResource as Resource } from './kombo.ts'

export const TenantId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'tenant ids are lowercase letters, digits and dashes (max 63)')
export type TenantId = z.infer<typeof TenantId>

export const ChangeEnvelope = z.object({
  tenant: TenantId,
  integrationId: z.string().min(1),
  resource: KomboResource,
  fetchedAt: isoDateTime,
  pollId: z.string().min(1),
  /** The Kombo record as received; validated against the resource's schema by `parseChangeEnvelope`. */
  record: z.looseObject({ id: z.string().min(1) }),
})
export type ChangeEnvelope = z.infer<typeof ChangeEnvelope>

/** Change-log key: `tenant:komboId`, so every change of one entity lands in one partition, in order. */
export const changeKey = (tenant: string, komboId: string): string => `${tenant}:${komboId}`

/** Validates an envelope and its record against the record schema of its resource. */
export function parseChangeEnvelope(value: unknown):
  | { ok: true; envelope: ChangeEnvelope }
  | { ok: false; reason: string } {
  const env = ChangeEnvelope.safeParse(value)
  if (!env.success) return { ok: false, reason: `invalid envelope: ${z.prettifyError(env.error)}` }
  const schema = komboRecordSchemas[env.data.resource as Resource]
  const rec = schema.safeParse(env.data.record)
  if (!rec.success) {
    return { ok: false, reason: `invalid ${env.data.resource} record ${env.data.record.id}: ${z.prettifyError(rec.error)}` }
  }
  return { ok: true, envelope: { ...env.data, record: rec.data as ChangeEnvelope['record'] } }
}
