// The metrics listener of a role without the read API (poller, processor, projector run apart):
// GET /metrics (this process's own registry, Prometheus text) and GET /health/live on
// HOST:METRICS_PORT, so Prometheus can scrape every process. The `all` and `api` roles serve the
// same /metrics on the API port instead. Plain node:http: two fixed routes need no framework, and
// nothing here ever reads a request body.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

export interface MetricsListener {
  /** e.g. http://127.0.0.1:9464 (the port actually bound, when METRICS_PORT=0). */
  url: string
  stop(): Promise<void>
}

export async function startMetricsListener(
  registry: Registry,
  options: { host: string; port: number; onError?: (err: Error) => void },
): Promise<MetricsListener> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' }).end('{"error":"method not allowed"}')
      return
    }
    if (path === '/health/live') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
      return
    }
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found: this port serves /metrics and /health/live"}')
      return
    }
    registry.metrics().then(
      (body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: Error) => {
        // A collector failing must not take the role down; Prometheus records the failed scrape.
        options.onError?.(err)
        response.writeHead(500, { 'content-type': 'text/plain' }).end('collecting metrics failed\n')
      },
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return {
    url: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
