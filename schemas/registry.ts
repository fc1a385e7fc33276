// The Schema Registry view of the change envelope: one JSON Schema per Kombo resource, generated
// from the zod envelope so zod stays the single source of truth. Registered by the Kafka change
// log under the subject `<topic>-value` with BACKWARD compatibility, so consumers on the new
// schema can read everything already in the topic.
//
// The record is registered as the envelope's loose `{ id }` object, not the full record schema:
// the registry validates on encode, and a Kombo record that breaks our schema must still reach
// the log so the processor can dead-letter it with its bytes (nothing is dropped silently).
import { z } from 'zod'
import { ChangeEnvelope } from './envelope.ts'
import type { KomboResource } from './kombo.ts'

export type JsonSchemaDocument = Record<string, unknown>

/** The JSON Schema (draft-07, which the registry client's Ajv understands) of one resource's envelope. */
export function envelopeJsonSchema(resource: KomboResource): JsonSchemaDocument {
  const perResource = ChangeEnvelope.extend({ resource: z.literal(resource) })
  const schema = z.toJSONSchema(perResource, { target: 'draft-07' }) as JsonSchemaDocument
  return { ...schema, title: `kombo-sync change envelope: ${resource}` }
}

/** Confluent's TopicNameStrategy: the value schema of `topic` lives under `<topic>-value`. */
export const valueSubject = (topic: string): string => `${topic}-value`
