// Starts the OpenTelemetry SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set (off otherwise): spans are
// batched and exported over OTLP/HTTP, context flows through async calls (AsyncLocalStorage) and
// across processes as W3C trace context. Tests pass their own exporter (an in-memory one).
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { setTracingEnabled } from '../tracing/spans.ts'

export interface TracingHandle {
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>
}

export function startTracing(options: { serviceName: string; endpoint?: string; exporter?: SpanExporter }): TracingHandle | null {
  if (!options.exporter && !options.endpoint) return null
  const exporter = options.exporter ?? new OTLPTraceExporter({ url: `${options.endpoint!.replace(/\/$/, '')}/v1/traces` })
  // An exporter given by a test is read synchronously; a real one gets batches.
  const processor = options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)
  const provider = new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': options.serviceName }), spanProcessors: [processor] })
  provider.register({ propagator: new W3CTraceContextPropagator() })
  setTracingEnabled(true)
  return {
    async shutdown() {
      setTracingEnabled(false)
      await provider.shutdown()
    },
  }
}
