// Migrations run up, down and up again on a real PostgreSQL, and --dry-run changes nothing.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { withDatabase } from '../../src/db/connection.js'
import { migrate } from '../../src/db/migrate.js'
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
