// Scheduled maintenance on a real PostgreSQL: the job's own script (docker/pgbackrest/maintenance.sh,
// run by the CronJobs and the compose `maintenance` profile) vacuums, analyzes in stages and
// reindexes concurrently while a real app serves reads and writes over HTTP, with no failed
// request; migrations leave fresh statistics and the reviewed autovacuum settings behind.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { withDatabase } from '../../src/db/connection.js'
import { migrate } from '../../src/db/migrate.js'
import { ROOT } from '../../src/paths.js'
import { buildTestApp, createTestDatabase, token, type TestDatabase } from '../helpers/app.js'
import { traffic, waitUntil } from '../helpers/faults.js'
import { TEST_DATABASE_URL } from '../helpers/services.js'

const run = promisify(execFile)
const SCRIPT = join(ROOT, 'docker/pgbackrest/maintenance.sh')

async function query<T extends pg.QueryResultRow> (url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try { return (await c.query<T>(sql)).rows } finally { await c.end() }
}

const maintenance = (mode: string, url: string) => run('sh', [SCRIPT, mode], { env: { PATH: process.env.PATH, MAINTENANCE_DATABASE_URL: url }, maxBuffer: 16 * 1024 * 1024 })

describe('database maintenance', () => {
  let db: TestDatabase
  let app: App
  let base: string
  beforeAll(async () => {
    db = await createTestDatabase()
    // no load shedding: on a busy CI machine the event loop may lag past the default threshold,
    // and a 503 from that would say nothing about what the maintenance does to the database
    app = await buildTestApp(db.url, { PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0' })
    await app.listen({ host: '127.0.0.1', port: 0 })
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  })
  afterAll(async () => {
    await app?.close()
    await db?.drop()
  })

  it('vacuums, analyzes in stages and reindexes concurrently while every request succeeds', async () => {
    const indexes = `SELECT c.relname, c.relfilenode FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1`
    const before = await query<{ relname: string, relfilenode: number }>(db.url, indexes)
    expect(before.map((i) => i.relname)).toEqual(expect.arrayContaining(['posts_author_created_idx', 'users_email_key']))

    const writer = token('1')
    let n = 0
    let writes = 0
    const load = traffic(async () => {
      const i = n++
      const body = i % 2 === 0
        ? { query: 'query Feed { posts(limit: 20) { id title author { id name } } }' }
        : { query: 'mutation Write($input: CreatePostInput!) { createPost(input: $input) { id } }', variables: { input: { title: `maintenance ${i}`, body: 'x'.repeat(200) } } }
      const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${writer}` }, body: JSON.stringify(body) })
      const json = await res.json() as { data?: { createPost?: { id: string } }, errors?: Array<{ extensions: { code: string } }> }
      if (json.data?.createPost) writes++
      return { status: res.status, codes: (json.errors ?? []).map((e) => e.extensions.code) }
    }, 4)
    await waitUntil(() => load.samples.length >= 20, 30_000)

    const vacuum = await maintenance('vacuum', db.url)
    expect(vacuum.stdout).toMatch(/vacuuming database/)
    expect(vacuum.stdout).toMatch(/Generating minimal optimizer statistics \(1 target\)/)
    expect(vacuum.stdout).toMatch(/Generating default \(full\) optimizer statistics/)
    const reindex = await maintenance('reindex', db.url)
    expect(reindex.stdout).toContain('maintenance.sh: reindex done')
    const samples = await load.stop()

    expect(samples.length).toBeGreaterThanOrEqual(40)
    expect(samples.filter((s) => s.status !== 200 || s.codes.length > 0).map((s) => ({ status: s.status, codes: s.codes }))).toEqual([])
    // writes really went through during maintenance
    const [{ written }] = await query<{ written: number }>(db.url, "SELECT count(*)::int AS written FROM posts WHERE title LIKE 'maintenance %'")
    expect(written).toBeGreaterThan(0)
    expect(written).toBe(writes)
    // every index rebuilt (a new file), every example table vacuumed and analyzed by hand
    const after = await query<{ relname: string, relfilenode: number }>(db.url, indexes)
    expect(after.map((i) => i.relname)).toEqual(before.map((i) => i.relname))
    for (const [i, index] of after.entries()) expect(index.relfilenode, index.relname).not.toBe(before[i].relfilenode)
    await waitUntil(async () => {
      const stats = await query<{ relname: string }>(db.url, "SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL AND last_analyze IS NOT NULL AND relname IN ('users', 'posts', 'idempotency_keys')")
      return stats.length === 3
    }, 10_000, 100)
  }, 180_000)

  it('refuses to run without the owner URL, or with an unknown mode', async () => {
    await expect(run('sh', [SCRIPT, 'vacuum'], { env: { PATH: process.env.PATH } })).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('MAINTENANCE_DATABASE_URL') })
    await expect(maintenance('compact', db.url)).rejects.toMatchObject({ code: 2 })
  })

  it('analyzes after migrating and sets the reviewed autovacuum parameters', async () => {
    const name = `bastion_mt_${randomBytes(4).toString('hex')}`
    await query(TEST_DATABASE_URL!, `CREATE DATABASE ${name}`)
    const url = withDatabase(TEST_DATABASE_URL!, name)
    try {
      const lines: string[] = []
      await migrate({ connection: url, log: (l) => lines.push(l) })
      expect(lines).toContain('analyzed the database after migrating')
      await waitUntil(async () => (await query(url, "SELECT 1 FROM pg_stat_user_tables WHERE schemaname = 'public' AND last_analyze IS NULL")).length === 0, 10_000, 100)
      const options = await query<{ relname: string, reloptions: string[] | null }>(url, "SELECT relname, reloptions FROM pg_class WHERE relname IN ('posts', 'idempotency_keys') ORDER BY 1")
      expect(options).toEqual([
        { relname: 'idempotency_keys', reloptions: expect.arrayContaining(['autovacuum_vacuum_threshold=1000', 'autovacuum_vacuum_scale_factor=0.02']) },
        { relname: 'posts', reloptions: expect.arrayContaining(['autovacuum_vacuum_scale_factor=0.05', 'autovacuum_analyze_scale_factor=0.02']) }
      ])
      // nothing to run: no second ANALYZE
      const again: string[] = []
      await migrate({ connection: url, log: (l) => again.push(l) })
      expect(again).not.toContain('analyzed the database after migrating')
    } finally {
      await query(TEST_DATABASE_URL!, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    }
  }, 60_000)
})
