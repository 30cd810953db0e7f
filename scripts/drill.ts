// `npm run drill [-- --archive-timeout 5] [--keep]`: a timed point-in-time recovery drill on a
// private cluster (never the machine's own PostgreSQL). It archives WAL to two pgBackRest
// repositories, writes numbered rows, takes a full and an incremental backup, notes a target
// time T, drops the table after T and loses the primary, restores to T from repo2 (the other
// region), starts the server on the restored data and checks that exactly the rows committed
// before T are back. Prints RTO (restore start to /ready 200) and RPO (how long the commit at T
// stayed in the primary only: what losing the primary then would have cost); exits 1 on a failed check.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { migrate } from '../src/db/migrate.js'
import { ROOT } from '../src/paths.js'
import { asOwner, cluster, pgbackrest, prepare, STANZA, writePgbackrestConf } from './drill-cluster.js'

const { values } = parseArgs({ options: { 'archive-timeout': { type: 'string', default: '5' }, keep: { type: 'boolean', default: false } } })
const archiveTimeout = Number(values['archive-timeout'])
if (!Number.isInteger(archiveTimeout) || archiveTimeout < 1 || archiveTimeout > 3600) throw new Error('--archive-timeout: whole seconds, 1 to 3600')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const t0 = performance.now()
const step = (msg: string) => process.stdout.write(`drill [${((performance.now() - t0) / 1000).toFixed(1)} s]: ${msg}\n`)
const seconds = (ms: number) => (ms / 1000).toFixed(1)

async function freePort (): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function until<T> (what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  for (const end = Date.now() + timeoutMs; ;) {
    const value = await fn().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s`)
    await sleep(50)
  }
}

/** one row per transaction, numbered 1, 2, ...; `mark` notes T between two commits */
function writer (client: pg.Client) {
  let acked = 0
  let running = true
  let hold: Promise<void> | undefined
  const done = (async () => {
    while (running) {
      if (hold) await hold
      await client.query('INSERT INTO drill_rows (n) VALUES ($1)', [acked + 1])
      acked++
      await sleep(5)
    }
  })()
  return {
    get acked () { return acked },
    async mark () {
      let release!: () => void
      hold = new Promise((resolve) => { release = resolve })
      // one connection runs its queries in order: this SELECT runs after the insert in flight (if
      // any) committed, and the next insert waits for `hold`, so T falls between two commits
      await sleep(20)
      const { rows: [t] } = await client.query<{ at: string, wal: string }>(
        "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS at, pg_walfile_name(pg_current_wal_lsn()) AS wal")
      const before = acked
      hold = undefined
      release()
      return { ...t, before }
    },
    async stop () { running = false; await done; return acked }
  }
}

const work = mkdtempSync(join(tmpdir(), 'bastion-drill-'))
let server: ReturnType<typeof spawn> | undefined
const clusters: Array<{ kill (): Promise<void> }> = []
let failed = false
try {
  await prepare(work)
  const port = await freePort()
  const conf = writePgbackrestConf(work, port)
  const primary = await cluster(work, join(work, 'primary'), port, { init: { conf, archiveTimeout } })
  clusters.push(primary)
  await primary.start()
  await pgbackrest(conf, ['stanza-create'])
  await pgbackrest(conf, ['check'])
  step(`cluster on 127.0.0.1:${port} archiving to repo1 and repo2 (archive_timeout ${archiveTimeout} s)`)
  await migrate({ connection: primary.url })
  const client = new pg.Client({ connectionString: primary.url })
  await client.connect()
  await client.query('CREATE TABLE drill_rows (n bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())')
  const rows = writer(client)
  const backup = (type: string) => asOwner('sh', [join(work, 'backup.sh'), type], {
    PGBACKREST_CONFIG: conf, PGBACKREST_STANZA: STANZA, BACKUP_METRICS_DIR: join(work, 'metrics')
  })
  await backup('full')
  step(`full backup in both repositories (${rows.acked} rows so far)`)
  await backup('incr')
  step(`incremental backup in both repositories (${rows.acked} rows so far)`)
  // the backup job's success metric, as node_exporter's textfile collector reads it (BackupTooOld)
  const metric = readFileSync(join(work, 'metrics', 'bastion_backup_incr.prom'), 'utf8')
  if (!new RegExp(`^backup_last_success_timestamp_seconds\\{stanza="${STANZA}",type="incr"\\} \\d+$`, 'm').test(metric)) throw new Error(`backup.sh wrote no success metric:\n${metric}`)
  await sleep(1000)
  const target = await rows.mark()
  const markedAt = performance.now()
  step(`T = ${target.at}: rows 1..${target.before} committed before it`)
  // RPO: until the segment holding T is in the repositories, losing the primary loses those commits
  await until('WAL holding T archived', (archiveTimeout + 30) * 1000, async () => {
    const { rows: [a] } = await client.query<{ wal: string | null, failed: number }>('SELECT last_archived_wal AS wal, failed_count AS failed FROM pg_stat_archiver')
    return a.wal && a.wal.slice(8) >= target.wal.slice(8) ? true : undefined
  })
  const rpoMs = performance.now() - markedAt
  await sleep(500)
  const written = await rows.stop()
  await client.query('DROP TABLE drill_rows')
  await client.end()
  await primary.kill()
  step(`rows ${target.before + 1}..${written} written after T; table dropped; primary lost`)

  const restoreStarted = performance.now()
  renameSync(primary.data, join(work, 'primary.lost'))
  await pgbackrest(conf, ['--repo=2', '--type=time', `--target=${target.at}`, '--target-action=promote', 'restore'])
  const restored = await cluster(work, primary.data, port)
  clusters.push(restored)
  step('restored files from repo2')
  await restored.start()
  step('restored cluster up')
  const appPort = await freePort()
  server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', LOG_LEVEL: 'warn', PORT: String(appPort), HOST: '127.0.0.1', DATABASE_URL: restored.url },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  await until('/ready 200 on the restored data', 120_000, async () => (await fetch(`http://127.0.0.1:${appPort}/ready`)).status === 200 || undefined)
  const rtoMs = performance.now() - restoreStarted
  step(`restored from repo2 and /ready answers 200 after ${seconds(rtoMs)} s`)

  const check = new pg.Client({ connectionString: restored.url })
  await check.connect()
  const { rows: [got] } = await check.query<{ count: number, min: string | null, max: string | null }>('SELECT count(*)::int AS count, min(n) AS min, max(n) AS max FROM drill_rows')
  await check.end()
  const exact = got.count === target.before && Number(got.min) === 1 && Number(got.max) === target.before
  step(`restored rows: ${got.count} (1..${got.max}); expected exactly 1..${target.before}: ${exact ? 'ok' : 'FAILED'}`)
  failed = !exact
  process.stdout.write(`RTO ${seconds(rtoMs)} s\nRPO ${seconds(rpoMs)} s\n`)
} catch (err) {
  failed = true
  process.stderr.write(`drill failed: ${(err as Error).message}\n`)
} finally {
  server?.kill('SIGTERM')
  for (const c of clusters.reverse()) await c.kill()
  if (values.keep) step(`kept ${work}`)
  else rmSync(work, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)
