// Shared by scripts/backup.ts and scripts/restore.ts: which database, and running PostgreSQL's
// own client tools (pg_dump, pg_restore) on it. The password goes to the tools through
// PGPASSWORD, never on their command line, where `ps` would show it.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import pg from 'pg'
import { readEnvironment } from '../src/config.js'

export function fail (message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

/** --database-url, else the owner's MIGRATION_DATABASE_URL, else DATABASE_URL (each may come from NAME_FILE). */
export function databaseUrl (flag: string | undefined, command: string): string {
  if (flag) return flag
  const env = readEnvironment()
  for (const name of ['MIGRATION_DATABASE_URL', 'DATABASE_URL']) {
    if (env[name]) return env[name]!
    const file = env[`${name}_FILE`]
    if (file) return readFileSync(file, 'utf8').trim()
  }
  return fail(`npm run ${command} needs MIGRATION_DATABASE_URL or DATABASE_URL (or --database-url); the embedded development database has no backups`)
}

export function databaseName (url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1)) || fail(`${url.replace(/:[^:@/]*@/, ':***@')}: no database name`)
}

export { withDatabase } from '../src/db/connection.js'

/** Runs a PostgreSQL client tool on `url`; resolves with its stdout, rejects with its stderr. */
export function pgTool (tool: string, args: string[], url?: string, opts: { inherit?: boolean } = {}): Promise<string> {
  const env = { ...process.env }
  const extra: string[] = []
  if (url) {
    const u = new URL(url)
    if (u.password) env.PGPASSWORD = decodeURIComponent(u.password)
    u.password = ''
    extra.push('--no-password', `--dbname=${u.toString()}`)
  }
  return new Promise((resolve, reject) => {
    const child = spawn(tool, [...extra, ...args], { env, stdio: ['ignore', 'pipe', opts.inherit ? 'inherit' : 'pipe'] })
    let out = ''
    let err = ''
    child.stdout!.on('data', (c: Buffer) => { out += c.toString() })
    child.stderr?.on('data', (c: Buffer) => { err += c.toString() })
    child.on('error', (e) => reject(new Error(`${tool}: ${e.message} (install PostgreSQL's client tools, e.g. apt-get install postgresql-client)`)))
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${tool} exited with ${code}${err ? `: ${err.trim()}` : ''}`))))
  })
}

/** pg_dump must be at least the server's major version, or it refuses (or, older, dumps wrongly). */
export async function checkVersions (url: string) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const server = Math.floor(Number((await client.query<{ v: string }>('SELECT current_setting(\'server_version_num\') AS v')).rows[0].v) / 10000)
    const tool = Number(/(\d+)/.exec(await pgTool('pg_dump', ['--version']))?.[1])
    if (tool < server) fail(`pg_dump ${tool} cannot dump a PostgreSQL ${server} server: install the client tools of version ${server} or newer`)
  } finally {
    await client.end()
  }
}
