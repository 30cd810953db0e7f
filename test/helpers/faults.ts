// Fault injection on real services, never on the machine's shared ones: a TCP proxy that can be
// cut, a private redis-server, a private PostgreSQL cluster. Each listens on a free port of its own.
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** a port nobody listens on right now */
export async function freePort (): Promise<number> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function waitForPort (port: number, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > until) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`)
    await sleep(50)
  }
}

export type ProxyMode = 'pass' | 'drop' | 'blackhole'

export interface Proxy {
  port: number
  /** the target URL with host and port replaced by the proxy's */
  url (target: string): string
  /**
   * pass: forward; drop: reset every open connection and every new one (a dead server or a
   * restart); blackhole: accept and never answer, the open connections go silent (a partition).
   */
  set (mode: ProxyMode): void
  /** sends new connections to another port and resets the open ones (HAProxy marking a server down) */
  target (port: number): void
  close (): Promise<void>
}

/** A TCP proxy to 127.0.0.1:targetPort that a test can cut. */
export async function startProxy (targetPort: number): Promise<Proxy> {
  let mode: ProxyMode = 'pass'
  let target = targetPort
  const pairs = new Set<{ client: net.Socket, upstream: net.Socket }>()
  const server = net.createServer((client) => {
    client.on('error', () => {})
    if (mode === 'drop') { client.resetAndDestroy(); return }
    if (mode === 'blackhole') { pairs.add({ client, upstream: client }); return }
    const upstream = net.connect(target, '127.0.0.1')
    upstream.on('error', () => client.destroy())
    const pair = { client, upstream }
    pairs.add(pair)
    client.pipe(upstream)
    upstream.pipe(client)
    const end = () => { pairs.delete(pair); client.destroy(); upstream.destroy() }
    client.on('close', end)
    upstream.on('close', end)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  return {
    port,
    url (target) {
      const u = new URL(target)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    set (next) {
      mode = next
      for (const pair of pairs) {
        if (next === 'drop') { pair.client.resetAndDestroy(); pair.upstream.destroy(); pairs.delete(pair) }
        // stop forwarding in both directions; the sockets stay open and silent
        if (next === 'blackhole') { pair.client.unpipe(); pair.upstream.unpipe(); pair.client.pause(); pair.upstream.pause() }
      }
    },
    target (next) {
      target = next
      for (const pair of pairs) { pair.client.resetAndDestroy(); pair.upstream.destroy(); pairs.delete(pair) }
    },
    async close () {
      for (const { client, upstream } of pairs) { client.destroy(); upstream.destroy() }
      await new Promise((resolve) => server.close(resolve))
    }
  }
}

export interface PrivateRedis {
  url: string
  port: number
  /** stop the process (connections close) */
  stop (): Promise<void>
  /** start it again on the same port */
  start (): Promise<void>
  /** SIGSTOP: the process hangs, connections stay open and unanswered */
  pause (): void
  resume (): void
  close (): Promise<void>
}

/**
 * A redis-server of the test's own on a free port: no persistence, or with `persistDir` an
 * append-only file there, written on every command (so data survives stop(), a SIGKILL).
 */
export async function startRedis (opts: { persistDir?: string } = {}): Promise<PrivateRedis> {
  const port = await freePort()
  let proc: ChildProcess | null = null
  const persistence = opts.persistDir
    ? ['--dir', opts.persistDir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
    : ['--save', '', '--appendonly', 'no']
  async function start () {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...persistence, '--loglevel', 'warning'], { stdio: 'ignore' })
    await waitForPort(port)
  }
  async function stop () {
    if (!proc) return
    const p = proc
    proc = null
    p.kill('SIGCONT')
    p.kill('SIGKILL')
    if (p.exitCode === null && p.signalCode === null) await once(p, 'exit')
  }
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    pause: () => { proc?.kill('SIGSTOP') },
    resume: () => { proc?.kill('SIGCONT') },
    close: stop
  }
}

export interface PrivatePostgres {
  url: string
  port: number
  /** pg_ctl stop -m fast: sessions are terminated (57P01) */
  stop (): Promise<void>
  start (): Promise<void>
  close (): Promise<void>
}

// Debian's server binaries, newest version installed (.ci/run installs them when absent)
function pgBin (): string {
  const versions = readdirSync('/usr/lib/postgresql').filter((v) => existsSync(join('/usr/lib/postgresql', v, 'bin', 'initdb')))
  if (versions.length === 0) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql (apt install postgresql)')
  return join('/usr/lib/postgresql', versions.sort((a, b) => Number(b) - Number(a))[0], 'bin')
}

/**
 * Runs the server binaries (initdb, pg_ctl, pg_basebackup) on clusters under `dir`. initdb refuses
 * to run as root: as root, `dir` is given to the postgres user and the binaries run as it.
 */
export async function postgresRunner (dir: string): Promise<(cmd: string, args: string[]) => Promise<{ stdout: string, stderr: string }>> {
  const asPostgres = process.getuid?.() === 0
  if (asPostgres) chownSync(dir, Number((await run('id', ['-u', 'postgres'])).stdout.trim()), Number((await run('id', ['-g', 'postgres'])).stdout.trim()))
  const bin = pgBin()
  return (cmd, args) => asPostgres
    ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args])
    : run(join(bin, cmd), args)
}

/** A PostgreSQL cluster of the test's own (initdb, trust auth, user postgres) on a free port. */
export async function startPostgres (): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-pg-'))
  const data = join(dir, 'data')
  const port = await freePort()
  const pgRun = await postgresRunner(dir)
  await pgRun('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'])
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c shared_buffers=16MB`
  const start = async () => { await pgRun('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']) }
  const stop = async () => { await pgRun('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {}) }
  await start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    async close () {
      await pgRun('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** percentile (0..100) of a list of numbers */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/** Print a test's observed figures in one line that can be copied into a note. */
export function report (scenario: string, figures: Record<string, unknown>) {
  process.stdout.write(`[resilience] ${scenario}: ${JSON.stringify(figures)}\n`)
}

export interface Sample { startedAt: number, ms: number, status: number, codes: string[] }

/**
 * Closed-loop traffic: `workers` loops each sending one request after another until stop().
 * Each call of send resolves to its status and the error codes of its body.
 */
export function traffic (send: () => Promise<{ status: number, codes: string[] }>, workers = 4) {
  const samples: Sample[] = []
  let running = true
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const startedAt = performance.now()
      const r = await send().catch((err: Error) => ({ status: 0, codes: [`client:${err.message}`] }))
      samples.push({ startedAt, ms: performance.now() - startedAt, ...r })
    }
  })
  return {
    samples,
    async stop () {
      running = false
      await Promise.all(loops)
      return samples
    }
  }
}

/** polls fn every intervalMs until it returns true; resolves to the milliseconds it took */
export async function waitUntil (fn: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 25): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (await fn()) return Math.round(performance.now() - started)
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(intervalMs)
  }
}
