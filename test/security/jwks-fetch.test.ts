// The identity provider's answers are bounded before they reach memory: a JWKS or discovery
// document over 512 KiB is refused whether or not it says its length, against a real HTTP server.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { fetchJson } from '../../src/auth/jwks-fetch.js'

let server: Server
let base: string
let bytesSent = 0

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/small') return res.end(JSON.stringify({ keys: [] }))
    if (req.url === '/declared') {
      res.setHeader('content-length', String(1024 * 1024))
      return res.end(' '.repeat(1024 * 1024))
    }
    // /chunked: 8 MiB in 64 KiB chunks with no Content-Length, until the client goes away
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    let left = 128
    const write = () => {
      while (left > 0 && !res.destroyed) {
        left--
        bytesSent += chunk.length
        if (!res.write(chunk)) return res.once('drain', write)
      }
      if (left === 0) res.end()
    }
    write()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)) })

it('parses a small answer', async () => {
  expect(await fetchJson(`${base}/small`, 2000)).toEqual({ keys: [] })
})

it('refuses an answer whose Content-Length is over 512 KiB without reading it', async () => {
  await expect(fetchJson(`${base}/declared`, 2000)).rejects.toThrow(/response larger than 524288 bytes/)
})

it('refuses a chunked answer once it passes 512 KiB, without reading the rest', async () => {
  await expect(fetchJson(`${base}/chunked`, 5000)).rejects.toThrow(/response larger than 524288 bytes/)
  // the server stopped well before its 8 MiB: the client hung up (socket buffers hold a few MiB at most)
  await new Promise((resolve) => setTimeout(resolve, 200))
  expect(bytesSent).toBeLessThan(8 * 1024 * 1024)
})
