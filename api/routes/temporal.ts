// The two time axes of a read of the past, shared by the user, team and location routes.
import { z } from 'zod'
import type { TimeAxes } from '../../projections/audit/bitemporal.ts'
import type { TemporalQuery } from './parameters.ts'

/** `knownAt` defaults to now: "as we know it now". */
export function axesOf(query: z.infer<typeof TemporalQuery>, now: () => Date = () => new Date()): TimeAxes {
  return { asOf: query.asOf ? new Date(query.asOf) : null, knownAt: query.knownAt ? new Date(query.knownAt) : now() }
}

/** The response of a read on the time axes: the document and the instants it was read at. */
export const temporalResponse = (item: z.ZodType) =>
  z.object({
    data: item,
    asOf: z.string().nullable().describe('the HR instant used; null when only knownAt was asked (the document as served then)'),
    knownAt: z.string().describe('the recorded instant used: what kombo-sync knew then'),
    knownSince: z.string().describe("the first snapshot's source changed_at: values before it are the earliest known, not what was true then"),
    firstRecordedAt: z.string().describe('when kombo-sync first recorded it'),
  })
