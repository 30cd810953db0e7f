// The identity provider's answers are bounded before they reach memory: a JWKS or discovery
// document over 512 KiB is refused whether or not it says its length, and one that never ends is
// refused at the deadline; each time the client hangs up, which the server sees, against a real
// HTTP server.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { fetchJson } from '../../src/auth/jwks-fetch.js'

const MiB = 1024 * 1024

interface Seen {
  /** body bytes the server wrote */
  written: number
  /** when the connection closed: body bytes written by then, and whether the answer was complete */
  closed: Promise<{ written: number, complete: boolean }>
}

let server: Server
let base: string
/** what the server saw of the last request */
let seen: Seen

beforeAll(async () => {
  server = createServer((req, res) => {
    const s: Seen = { written: 0, closed: new Promise((resolve) => res.once('close', () => resolve({ written: s.written, complete: res.writableFinished }))) }
    seen = s
    if (req.url === '/small') return res.end(JSON.stringify({ keys: [] }))
    if (req.url === '/declared') {
      // headers now, the body only if the connection is still open: a client that read the body
      // before its size check would get it, and so would one that refused without hanging up
      res.writeHead(200, { 'content-length': String(MiB) })
      res.flushHeaders()
      const body = setTimeout(() => { s.written += MiB; res.end(' '.repeat(MiB)) }, 500)
      return res.once('close', () => clearTimeout(body))
    }
    if (req.url === '/drip') {
      // a valid start, then a byte every 50 ms, forever
      res.write('{"keys":[')
      const drip = setInterval(() => { s.written++; res.write(' ') }, 50)
      return res.once('close', () => clearInterval(drip))
    }
    // /chunked: 8 MiB in 64 KiB chunks with no Content-Length, one every 5 ms: paced, so the
    // socket buffers stay near empty (unpaced, loopback takes some 4 MiB before the client reads
    // a byte) and what the server wrote by the hang-up says when the client hung up
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    let left = 128
    const write = () => {
      if (res.destroyed) return
      if (left === 0) return res.end()
      left--
      s.written += chunk.length
      const next = () => setTimeout(write, 5)
      if (res.write(chunk)) next()
      else res.once('drain', next)
    }
    write()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)) })

/** how the last connection ended, or 'still open' after `ms` */
const closedWithin = (ms: number) => Promise.race([seen.closed, sleep(ms, 'still open' as const)])

it('parses a small answer', async () => {
  expect(await fetchJson(`${base}/small`, 2000)).toEqual({ keys: [] })
  expect(await closedWithin(1000)).toMatchObject({ complete: true })
})

it('refuses an answer whose Content-Length is over 512 KiB without reading it', async () => {
  await expect(fetchJson(`${base}/declared`, 2000)).rejects.toThrow(/response larger than 524288 bytes/)
  // hung up on the headers alone: the server never sent a byte of the body
  expect(await closedWithin(1000)).toEqual({ written: 0, complete: false })
})

it('refuses a chunked answer once it passes 512 KiB, and hangs up without reading the rest', async () => {
  await expect(fetchJson(`${base}/chunked`, 5000)).rejects.toThrow(/response larger than 524288 bytes/)
  // the client closed the connection (not merely stopped reading) soon after 512 KiB, with most
  // of the 8 MiB unsent: no more than was written can have reached its memory
  const end = await closedWithin(1000)
  expect(end).toMatchObject({ complete: false })
  expect((end as { written: number }).written).toBeLessThan(1 * MiB)
})

it('refuses an answer that never ends at the deadline, and hangs up', async () => {
  const started = performance.now()
  const refused = await Promise.race([fetchJson(`${base}/drip`, 300).then(() => 'parsed', (err: Error) => err.message), sleep(2000, 'still reading')])
  expect(refused).toBe('no answer within 300 ms')
  expect(performance.now() - started).toBeLessThan(1000)
  expect(seen.written).toBeGreaterThan(0) // the body was dripping when the deadline came
  expect(await closedWithin(1000)).toMatchObject({ complete: false })
})
