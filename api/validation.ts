// Routes declare zod schemas; Fastify sees them as JSON Schema (which feeds the OpenAPI document)
// while the validator compiler runs the original zod schema, so there is one source of truth and
// the 400 message names the parameter and says what is wrong with it.
import { z } from 'zod'
import type { FastifySchemaCompiler } from 'fastify'
import { KomboSyncError } from '../errors/kombo-sync-error.ts'

const zodByJsonSchema = new WeakMap<object, z.ZodType>()

const stripMeta = (json: Record<string, unknown>) => {
  const { $schema: _ignored, ...rest } = json
  return rest
}

/** A request schema (querystring, params, body) for a route declaration. */
export function inputSchema(schema: z.ZodType): Record<string, unknown> {
  const json = stripMeta(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>)
  zodByJsonSchema.set(json, schema)
  return json
}

/** A response schema, for the OpenAPI document only (responses are serialised with JSON.stringify). */
export function responseSchema(schema: z.ZodType): Record<string, unknown> {
  return stripMeta(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>)
}

export interface ValidationProblem {
  /** e.g. "query parameter 'limit'" */
  subject: string
  problem: string
}

/** A request did not match its route's schema. Retrying the same request cannot help. */
export class RequestValidationError extends KomboSyncError {
  override name = 'RequestValidationError'
  readonly statusCode = 400
  readonly retriable = false
  constructor(readonly problems: ValidationProblem[]) {
    super(problems.map((p) => `${p.subject} ${p.problem}`).join('; '))
  }
}

const subjectNames: Record<string, string> = {
  querystring: 'query parameter',
  params: 'path parameter',
  body: 'body field',
  headers: 'header',
}

const shown = (value: unknown): string => {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}

const valueAt = (data: unknown, path: PropertyKey[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), data)

function describe(issue: z.core.$ZodIssue, value: unknown): string {
  const got = value === undefined ? '' : ` (got '${shown(value)}')`
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'is required'
      if (Array.isArray(value) && issue.expected !== 'array') return 'must be given at most once'
      if (issue.expected === 'int') return `must be a whole number${got}`
      return `must be a ${issue.expected}${got}`
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')}${got}`
    case 'too_big':
      return issue.origin === 'string'
        ? `must be at most ${issue.maximum} characters long`
        : `must be at most ${issue.maximum}${got}`
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters long`
      return `must be at least ${issue.minimum}${got}`
    case 'invalid_format':
      if (issue.format === 'datetime') return `must be an ISO 8601 date-time with a time zone, e.g. 2026-03-01T00:00:00Z${got}`
      return `must be a valid ${issue.format}${got}`
    case 'custom':
      // A refinement's message says what is wrong; the value is not echoed (it may hold NULs).
      return issue.message
    default:
      return `${issue.message}${got}`
  }
}

export function toValidationError(httpPart: string, error: z.ZodError, data: unknown): RequestValidationError {
  const noun = subjectNames[httpPart] ?? httpPart
  const problems: ValidationProblem[] = []
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ subject: `${noun} '${key}'`, problem: 'is not supported' })
      continue
    }
    const name = issue.path.map(String).join('.')
    if (name === '' && httpPart === 'body') {
      problems.push({ subject: 'request body', problem: issue.code === 'invalid_type' ? 'must be a JSON object' : issue.message })
      continue
    }
    problems.push({ subject: `${noun} '${name}'`, problem: describe(issue, valueAt(data, issue.path)) })
  }
  return new RequestValidationError(problems)
}

/** Fastify validator compiler that runs the zod schema registered by inputSchema(). */
export const zodValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart, method, url }) => {
  const zodSchema = zodByJsonSchema.get(schema as object)
  // A route with a hand-written JSON schema would silently skip validation: refuse to start instead.
  if (!zodSchema) throw new Error(`route ${method} ${url}: the ${httpPart} schema must be built with inputSchema()`)
  return (data: unknown) => {
    const result = zodSchema.safeParse(data)
    return result.success ? { value: result.data } : { error: toValidationError(httpPart ?? 'request', result.error, data) }
  }
}
