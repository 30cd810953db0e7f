// A private primary and a streaming replica (initdb, pg_basebackup -R) on free ports, statements
// logged on both (log_statement=all) so a test counts where its reads ran, and a TCP proxy that a
// test can point at another server: the primary endpoint of a failover (HAProxy, a -rw service).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort, postgresRunner } from './faults.js'

export interface Server {
  url: string
  port: number
  /** one statement on a connection of its own */
  sql<R extends pg.QueryResultRow = pg.QueryResultRow> (text: string): Promise<R[]>
  /** statements this server logged so far that match (log_statement=all) */
  logged (pattern: RegExp): number
  start (): Promise<void>
  /** pg_ctl stop -m fast (sessions end with 57P01) */
  stop (): Promise<void>
  /** pg_ctl stop -m immediate: a crash, nothing is flushed or said to clients */
  kill (): Promise<void>
  promote (): Promise<void>
}

export interface Replication { primary: Server, replica: Server, close (): Promise<void> }

export async function startReplication (): Promise<Replication> {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-repl-'))
  const pgRun = await postgresRunner(dir)

  function server (name: string, port: number): Server {
    const data = join(dir, name)
    const log = join(dir, `${name}.log`)
    // wal_retrieve_retry_interval: a restarted standby retries streaming every 500 ms, not every
    // 5 s (PostgreSQL's default), so a test sees it back within seconds rather than at ~15 s
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB -c log_statement=all -c max_wal_senders=4 -c wal_retrieve_retry_interval=500ms`
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`
    return {
      url,
      port,
      async sql (text) {
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
        client.on('error', () => {})
        await client.connect()
        try { return (await client.query(text)).rows } finally { await client.end().catch(() => {}) }
      },
      logged: (pattern) => existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => pattern.test(l)).length : 0,
      start: async () => { await pgRun('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', 'start']) },
      stop: async () => { await pgRun('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {}) },
      kill: async () => { await pgRun('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {}) },
      promote: async () => { await pgRun('pg_ctl', ['-D', data, '-w', 'promote']) }
    }
  }

  const primary = server('primary', await freePort())
  await pgRun('initdb', ['-D', join(dir, 'primary'), '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'])
  await primary.start()
  const replica = server('replica', await freePort())
  // -R: standby.signal and primary_conninfo, so the copy starts as a streaming replica
  await pgRun('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', join(dir, 'replica'), '-R', '-X', 'stream', '--no-sync', '-c', 'fast'])
  await replica.start()
  return {
    primary,
    replica,
    async close () {
      await Promise.all([primary.kill(), replica.kill()])
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
