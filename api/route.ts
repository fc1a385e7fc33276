// A route declared with zod schemas, typed from them: the handler's `request.params`, `.query` and
// `.body` are the schemas' outputs (defaults and coercions applied), so no route casts. Fastify
// still sees JSON Schema (inputSchema/responseSchema: the OpenAPI document) and validates with the
// original zod schemas (zodValidatorCompiler), so the types and the checks cannot drift apart.
// A few lines instead of fastify-type-provider-zod: that provider brings its own validator and
// error format, and ours names the parameter and says what is wrong with it.
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify'
import type { z } from 'zod'
import { inputSchema, responseSchema } from './validation.ts'

type Output<S> = S extends z.ZodType ? z.output<S> : unknown

export interface ZodRouteRequest<P, Q, B> {
  Params: Output<P>
  Querystring: Output<Q>
  Body: Output<B>
}

export interface ZodRoute<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  url: string
  /** OpenAPI documentation of the route. */
  tags?: string[]
  summary?: string
  description?: string
  security?: Array<Record<string, string[]>>
  params?: P
  querystring?: Q
  body?: B
  /** Response schemas by status, for the OpenAPI document. */
  response?: Record<number, z.ZodType>
  handler: (request: FastifyRequest<ZodRouteRequest<P, Q, B>>, reply: FastifyReply) => Promise<unknown>
}

export function zodRoute<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  app: FastifyInstance,
  route: ZodRoute<P, Q, B>,
): void {
  const schema: FastifySchema & Record<string, unknown> = {}
  if (route.tags) schema.tags = route.tags
  if (route.summary) schema.summary = route.summary
  if (route.description) schema.description = route.description
  if (route.security) schema.security = route.security
  if (route.params) schema.params = inputSchema(route.params)
  if (route.querystring) schema.querystring = inputSchema(route.querystring)
  if (route.body) schema.body = inputSchema(route.body)
  if (route.response) schema.response = Object.fromEntries(Object.entries(route.response).map(([status, s]) => [status, responseSchema(s)]))
  app.route<ZodRouteRequest<P, Q, B>>({ method: route.method, url: route.url, schema, handler: route.handler })
}
