// The pieces of `npm run drill`: a private PostgreSQL cluster that archives its WAL with
// pgBackRest into two repositories, all under one temporary directory. PostgreSQL refuses to run
// as root, so as root every server and pgBackRest command runs as the `postgres` OS user, and
// pgBackRest's config, lock, log and spool paths live in that directory, which that user owns.
import { execFile } from 'node:child_process'
import { appendFileSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from '../src/paths.js'

const run = promisify(execFile)
export const STANZA = 'bastion'

/** Debian's server binaries, newest installed (apt-get install postgresql) */
export function pgBin (): string {
  const base = '/usr/lib/postgresql'
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : []
  if (versions.length === 0) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)')
  return join(base, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin')
}

const isRoot = process.getuid?.() === 0

/** runs a command as the postgres OS user when we are root, else as ourselves */
export async function asOwner (cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const argv = ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args]
  const [bin, ...rest] = isRoot ? ['runuser', '-u', 'postgres', '--', ...argv] : argv
  try {
    return (await run(bin, rest, { maxBuffer: 16 * 1024 * 1024 })).stdout
  } catch (err) {
    const e = err as { stderr?: string, stdout?: string, message: string }
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).trim()}`)
  }
}

/** the temporary directory: owned by the postgres user when we are root */
export async function prepare (work: string) {
  for (const sub of ['repo1', 'repo2', 'lock', 'log', 'spool', 'metrics']) mkdirSync(join(work, sub))
  // the script the CronJobs and the compose profile run, copied where the postgres user can read it
  copyFileSync(join(ROOT, 'docker/pgbackrest/backup.sh'), join(work, 'backup.sh'))
  if (!isRoot) return
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim())
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim())
  const own = (path: string) => {
    chownSync(path, uid, gid)
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.isDirectory()) own(join(path, entry.name)); else chownSync(join(path, entry.name), uid, gid)
    }
  }
  own(work)
}

/**
 * pgBackRest's configuration for the drill: the shipped docker/pgbackrest/pgbackrest.conf
 * (retention, bundling, compression, fast start) with every path under `work` (repo2 stands for
 * the other region's store) and this cluster's port and socket.
 */
export function writePgbackrestConf (work: string, port: number): string {
  const overrides: Record<string, string> = {
    'repo1-path': join(work, 'repo1'),
    'repo2-path': join(work, 'repo2'),
    'spool-path': join(work, 'spool'),
    'lock-path': join(work, 'lock'),
    'log-path': join(work, 'log'),
    'log-level-console': 'warn',
    'pg1-path': join(work, 'primary'),
    'pg1-socket-path': work,
    'pg1-port': String(port),
    // initdb's superuser here; the compose server's is `bastion`
    'pg1-user': 'postgres'
  }
  const seen = new Set<string>()
  const lines = readFileSync(join(ROOT, 'docker/pgbackrest/pgbackrest.conf'), 'utf8').split('\n').map((line) => {
    const key = /^([\w-]+)=/.exec(line)?.[1]
    if (!key || !(key in overrides)) return line
    seen.add(key)
    return `${key}=${overrides[key]}`
  })
  const missing = Object.keys(overrides).filter((k) => !seen.has(k))
  if (missing.length > 0) throw new Error(`docker/pgbackrest/pgbackrest.conf lacks ${missing.join(', ')}`)
  if (!lines.includes(`[${STANZA}]`)) throw new Error(`docker/pgbackrest/pgbackrest.conf has no [${STANZA}] stanza`)
  const file = join(work, 'pgbackrest.conf')
  writeFileSync(file, lines.join('\n'))
  return file
}

export function pgbackrest (conf: string, args: string[]): Promise<string> {
  return asOwner('pgbackrest', [`--config=${conf}`, `--stanza=${STANZA}`, ...args])
}

export interface Cluster { data: string, url: string, start (): Promise<void>, kill (): Promise<void> }

/** a cluster in `data` on `port`; `init` runs initdb and sets continuous archiving first */
export async function cluster (work: string, data: string, port: number, opts: { init?: { conf: string, archiveTimeout: number } } = {}): Promise<Cluster> {
  const bin = pgBin()
  if (opts.init) {
    await asOwner(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
    // the archiving of the compose postgres service (docker/compose.yaml): every WAL segment goes to both
    // repositories; archive_timeout bounds how long a quiet segment waits (the RPO)
    appendFileSync(join(data, 'postgresql.conf'), [
      '', '# npm run drill',
      'wal_level = replica',
      'archive_mode = on',
      `archive_command = 'pgbackrest --config=${opts.init.conf} --stanza=${STANZA} archive-push %p'`,
      `archive_timeout = ${opts.init.archiveTimeout}`,
      'max_wal_senders = 3',
      `listen_addresses = '127.0.0.1'`,
      `port = ${port}`,
      `unix_socket_directories = '${work}'`,
      ''
    ].join('\n'))
  }
  const ctl = (args: string[]) => asOwner(join(bin, 'pg_ctl'), ['-D', data, ...args])
  return {
    data,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: async () => { await ctl(['-l', join(work, `${data.split('/').pop()}.log`), '-w', '-t', '120', 'start']) },
    // immediate: no shutdown checkpoint, no last archive: the host is gone
    kill: async () => { await ctl(['-m', 'immediate', '-w', 'stop']).catch(() => {}) }
  }
}
