// A TCP proxy that can cut the network between the role processes and one server, for the chaos
// soak (scripts/soak.ts). A cut is a partition, not a refusal: for its length nothing passes in
// either direction on open connections and new ones hang unanswered (as when a link or a firewall
// drops packets), then every connection that lived through it is reset, as the peers' timeouts
// would end them. Done in user space so the soak needs no network namespace or root; it cuts the
// roles from PostgreSQL and from the event store, whose clients dial the address they are given
// (a Kafka client dials what the broker advertises, so the broker is faulted by kill -9 instead).
import { createServer, connect, type Socket } from 'node:net'

export interface CuttableProxy {
  port: number
  /** Blackholes every connection for `ms`, then resets those that lived through it. */
  cut(ms: number): Promise<void>
  close(): Promise<void>
}

export async function startCuttableProxy(target: { host: string; port: number }): Promise<CuttableProxy> {
  const open = new Set<Socket>()
  let cutting = false
  const held = new Set<Socket>()
  const server = createServer((client) => {
    open.add(client)
    client.on('error', () => {})
    client.on('close', () => open.delete(client))
    if (cutting) {
      client.pause() // accepted by the kernel, never answered: a connect that hangs
      held.add(client)
      return
    }
    const upstream = connect(target.port, target.host)
    open.add(upstream)
    upstream.on('error', () => client.destroy())
    upstream.on('close', () => {
      open.delete(upstream)
      client.destroy()
    })
    client.on('close', () => upstream.destroy())
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    port,
    async cut(ms) {
      cutting = true
      const during = [...open]
      for (const s of during) s.pause() // nothing read, so nothing forwarded either way
      await new Promise((r) => setTimeout(r, ms))
      cutting = false
      for (const s of [...during, ...held]) s.destroy()
      held.clear()
    },
    async close() {
      for (const s of open) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
