// Migrations run up, down and up again on a real PostgreSQL, and --dry-run changes nothing, on a
// DATABASE_URL or on the embedded default.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { withDatabase } from '../../src/db/connection.js'
import { startEmbedded } from '../../src/db/embedded.js'
import { migrate } from '../../src/db/migrate.js'
import { MIGRATIONS_DIR } from '../../src/paths.js'
import { TEST_DATABASE_URL } from '../helpers/services.js'

const run = promisify(execFile)

describe('migrations', () => {
  const name = `bastion_m_${randomBytes(4).toString('hex')}`
  let url: string
  let admin: pg.Client

  async function tables (withMigrationsTable = false) {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    const { rows } = await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND ($1 OR tablename <> 'pgmigrations') ORDER BY 1", [withMigrationsTable])
    await c.end()
    return rows.map((r) => r.tablename as string)
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    url = withDatabase(TEST_DATABASE_URL, name)
  })
  afterAll(async () => {
    await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin?.end()
  })

  it('prints the plan with --dry-run and changes nothing', async () => {
    const { stdout } = await run('npx', ['tsx', 'src/db/migrate-cli.ts', '--dry-run'], { env: { ...process.env, DATABASE_URL: url } })
    expect(stdout).toMatch(/CREATE TABLE users/)
    expect(stdout).toMatch(/would run \d+ migration/)
    // not even node-pg-migrate's own bookkeeping table
    expect(await tables(true)).toEqual([])
  })

  it('goes up, all the way down, and up again', async () => {
    const up = await migrate({ connection: url })
    expect(up.length).toBeGreaterThan(0)
    const all = await tables()
    expect(all).toEqual(expect.arrayContaining(['posts', 'users']))
    await migrate({ connection: url, direction: 'down', count: Infinity })
    expect(await tables()).toEqual([])
    await migrate({ connection: url })
    expect(await tables()).toEqual(all)
    expect(await migrate({ connection: url })).toEqual([])
  })

  it('creates an index for every query path', async () => {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    const { rows } = await c.query("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename IN ('users', 'posts')")
    await c.end()
    const defs = rows.map((r) => r.indexdef as string).join('\n')
    expect(defs).toMatch(/UNIQUE INDEX users_email_key ON public\.users USING btree \(lower\(email\)\)/)
    expect(defs).toMatch(/posts_author_created_idx ON public\.posts USING btree \(author_id, created_at DESC, id DESC\)/)
    expect(defs).toMatch(/users_pkey/)
    expect(defs).toMatch(/posts_pkey/)
  })
})

// The default without DATABASE_URL: the embedded development database, started for the run.
describe('npm run migrate -- --dry-run on the embedded database', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'bastion-migrate-cli-'))
  // run as root, the clusters belong to the postgres user, who must be able to enter this directory
  chmodSync(scratch, 0o755)
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))
  const migrations = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).length

  function dryRun (dir: string) {
    const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: 'development', EMBEDDED_DATABASE_DIR: dir }
    delete env.DATABASE_URL
    delete env.MIGRATION_DATABASE_URL
    return run('npx', ['tsx', 'src/db/migrate-cli.ts', '--dry-run'], { env })
  }

  async function pgmigrations (dir: string) {
    const db = await startEmbedded({ dir, maxConnections: 5 })
    const c = new pg.Client(db.connection)
    try {
      await c.connect()
      const { rows } = await c.query("SELECT to_regclass('public.pgmigrations') AS t, to_regclass('public.users') AS u")
      return rows[0] as { t: string | null, u: string | null }
    } finally {
      await c.end()
      await db.stop()
    }
  }

  it('plans every migration on an existing cluster and creates no table, not even pgmigrations', { timeout: 180_000 }, async () => {
    const dir = join(scratch, 'existing')
    await (await startEmbedded({ dir, maxConnections: 5 })).stop()
    const { stdout } = await dryRun(dir)
    expect(stdout).toMatch(/CREATE TABLE users/)
    expect(stdout).toContain(`would run ${migrations} migration(s)`)
    expect(await pgmigrations(dir)).toEqual({ t: null, u: null })
  })

  it('with no cluster yet, plans on a throwaway one and leaves the directory absent', { timeout: 180_000 }, async () => {
    const dir = join(scratch, 'none')
    const { stdout } = await dryRun(dir)
    expect(stdout).toContain(`would run ${migrations} migration(s)`)
    expect(existsSync(dir)).toBe(false)
  })
})
