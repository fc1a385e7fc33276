// Traces across the pipeline (OpenTelemetry API only; the SDK is started by runtime/tracing-sdk.ts
// when OTEL_EXPORTER_OTLP_ENDPOINT is set). One trace per change record: the poller starts it when
// it publishes the record, and its W3C `traceparent` travels with the record — in the Kafka message
// headers (a column of the SQL change log), then in the metadata of the events appended for it —
// so the processor's append and the projector's view write join the same trace.
// With tracing off every helper returns at once: nothing is allocated on the hot path.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api'

let enabled = false
/** Set by the SDK start-up (and tests with an in-memory exporter). */
export function setTracingEnabled(on: boolean): void {
  enabled = on
}
export const tracingEnabled = (): boolean => enabled

const tracer = () => trace.getTracer('kombo-sync')

/** An envelope's trace context, carried beside it (never part of the registered envelope schema). */
export const TRACEPARENT: unique symbol = Symbol('kombo-sync.traceparent')
export type Traced<T extends object> = T & { [TRACEPARENT]?: string }

export function traceparentOf(span: Span): string | undefined {
  const carrier: Record<string, string> = {}
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier)
  return carrier.traceparent
}

/** Starts a span whose parent is the given `traceparent` (a new root trace when there is none). */
export function startSpan(name: string, options: { traceparent?: string | null; kind?: SpanKind; attributes?: Attributes; root?: boolean }): Span | null {
  if (!enabled) return null
  const parent = options.traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent: options.traceparent }) : options.root ? ROOT_CONTEXT : context.active()
  return tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, root: options.root && !options.traceparent }, parent)
}

/** Ends spans, marking them failed when `error` is given. */
export function endSpans(spans: Iterable<Span | null>, error?: unknown): void {
  for (const span of spans) {
    if (!span) continue
    if (error) {
      span.recordException(error as Error)
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message })
    }
    span.end()
  }
}

export { SpanKind }
