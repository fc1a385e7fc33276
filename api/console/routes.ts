// GET /console: the operator console (page, script, style). The page holds no data and needs no
// token to load; each call it makes to the API carries the token the operator typed in, so it sees
// exactly what that token may see — no private back door.
import type { FastifyInstance } from 'fastify'
import { consoleCss, consoleHtml } from './page.ts'
import { consoleScript } from './script.ts'

/** Scripts and styles from this origin only; API calls to this origin only; never framed. */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const asset = (url: string, type: string, body: string) =>
    app.get(url, { schema: { hide: true } }, async (_request, reply) => reply.type(type).send(body))
  asset('/console', 'text/html; charset=utf-8', consoleHtml)
  asset('/console/console.js', 'text/javascript; charset=utf-8', consoleScript)
  asset('/console/console.css', 'text/css; charset=utf-8', consoleCss)
}
