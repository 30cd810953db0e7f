// A local HTTP server standing in for Sentry's ingest endpoint: records every envelope it is sent
// and the events in them, and answers 200 as Sentry does.
import { createServer } from 'node:http'
import { once } from 'node:events'
import { gunzipSync } from 'node:zlib'

export interface SentryRecorder<E> { dsn: string, envelopes: string[], events: E[], close (): void }

export async function startSentryRecorder<E = Record<string, unknown>> (): Promise<SentryRecorder<E>> {
  const envelopes: string[] = []
  const events: E[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString()
      envelopes.push(text)
      // envelope: a header line, then (item header, payload) pairs
      const lines = text.split('\n').filter(Boolean)
      for (let i = 1; i + 1 < lines.length; i += 2) {
        if ((JSON.parse(lines[i]) as { type?: string }).type === 'event') events.push(JSON.parse(lines[i + 1]) as E)
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    dsn: `http://publickey@127.0.0.1:${(server.address() as { port: number }).port}/1`,
    envelopes,
    events,
    close: () => { server.close() }
  }
}
