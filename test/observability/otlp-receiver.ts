// A local OTLP/HTTP receiver for tests: records every export. http/json bodies are decoded into
// spans; http/protobuf bodies are kept raw (a test looks for the trace id's bytes in them).
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import { gunzipSync } from 'node:zlib'

type AnyValue = { stringValue?: string, intValue?: string | number, doubleValue?: number, boolValue?: boolean, arrayValue?: { values: AnyValue[] } }
export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  scope: string
  attributes: Record<string, unknown>
  events: Array<{ name: string }>
  status?: { code?: number }
}

const valueOf = (v: AnyValue): unknown => v.arrayValue ? v.arrayValue.values.map(valueOf) : v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue

export interface Receiver { url: string, spans: ReceivedSpan[], protobuf: Buffer[], requests: number, close (): Promise<void> }

export async function startReceiver (): Promise<Receiver> {
  const received: Receiver = { url: '', spans: [], protobuf: [], requests: 0, close: async () => {} }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.requests++
      let body = Buffer.concat(chunks)
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
      if (String(req.headers['content-type']).includes('json')) {
        const doc = JSON.parse(body.toString()) as { resourceSpans: Array<{ scopeSpans: Array<{ scope: { name: string }, spans: Array<Omit<ReceivedSpan, 'attributes' | 'scope'> & { attributes?: Array<{ key: string, value: AnyValue }> }> }> }> }
        for (const rs of doc.resourceSpans) {
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              received.spans.push({ ...s, scope: ss.scope.name, events: s.events ?? [], attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, valueOf(a.value)])) })
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } else {
        received.protobuf.push(body)
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  received.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  received.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  return received
}
