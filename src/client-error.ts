// Fastify's clientErrorHandler (https://fastify.dev/docs/latest/Reference/Server/#clienterrorhandler):
// what Node's HTTP parser refuses before a request exists (a malformed request 400, a request that
// took longer than requestTimeout 408, headers over the limit 431) gets the same answer as any
// other error: the security headers, a request id, the one error body, a log line and a count in
// http_requests_total (route "unparsed"). Fastify's default answers without headers or id and
// logs at trace level only.
import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { errorBody, httpError } from './http-errors.js'
import { child } from './observability/metrics.js'

const STATUS_BY_CODE: Record<string, number> = {
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_HEADER_OVERFLOW: 431
}

export function clientErrorHandler (securityHeaders: Readonly<Record<string, string>>) {
  const headerLines = Object.entries(securityHeaders).map(([name, value]) => `${name}: ${value}\r\n`).join('')
  return function onClientError (this: FastifyInstance, err: Error & { code?: string }, socket: Socket) {
    // the client reset or closed the connection mid-request: nobody to answer (a request that had
    // started is logged and counted as a client abort by src/plugins/errors.ts)
    if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || socket.destroyed) {
      socket.destroy()
      return
    }
    const status = STATUS_BY_CODE[err.code ?? ''] ?? 400
    const { code, message, limit } = httpError(status)
    const requestId = randomUUID()
    const body = JSON.stringify(errorBody(code, requestId, message, limit ? { limit } : {}))
    this.log.info({ reqId: requestId, statusCode: status, code, parserCode: err.code, ip: socket.remoteAddress }, 'malformed request refused')
    if (this.hasDecorator('metrics')) child(this.metrics.httpRequests, 'UNKNOWN', 'unparsed', String(status)).inc()
    if (socket.writable) {
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headerLines}x-request-id: ${requestId}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
    }
    socket.destroy(err)
  }
}
