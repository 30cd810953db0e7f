// npm run backup / npm run restore on a real PostgreSQL: a seeded database is dumped, dropped,
// restored, and must come back table by table (row counts and a checksum of every row) with its
// sequences where they were, so the next insert does not collide.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from '../../src/paths.js'
import { createTestDatabase, type TestDatabase } from '../helpers/app.js'

const execFileAsync = promisify(execFile)

async function npm (args: string[], databaseUrl: string) {
  const env = { ...process.env, DATABASE_URL: databaseUrl, MIGRATION_DATABASE_URL: '' }
  try {
    const { stdout } = await execFileAsync('npm', ['run', '-s', ...args], { cwd: ROOT, env })
    return { code: 0, output: stdout }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, output: `${e.stdout}${e.stderr}` }
  }
}

/** every table's row count and the md5 of its rows in a stable order, and every sequence's position */
async function snapshot (url: string) {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    const tables: Record<string, { rows: number, md5: string }> = {}
    const names = await c.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    for (const { name } of names.rows) {
      const t = pg.escapeIdentifier(name)
      const r = await c.query<{ rows: number, md5: string }>(
        `SELECT count(*)::int AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS md5 FROM public.${t} t`)
      tables[name] = r.rows[0]
    }
    const sequences = await c.query("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1")
    return { tables, sequences: sequences.rows }
  } finally {
    await c.end()
  }
}

describe('npm run backup and npm run restore', () => {
  let db: TestDatabase
  let dir: string
  beforeAll(async () => {
    db = await createTestDatabase()
    dir = mkdtempSync(join(tmpdir(), 'bastion-backup-'))
    // rows the seed does not have: quotes, newlines, non-ASCII, a JSON document
    const c = new pg.Client({ connectionString: db.url })
    await c.connect()
    await c.query("INSERT INTO users (name, email) VALUES ($1, 'zoë@example.com')", ['O\'Brien "quoted"\nsecond line, ünïcödé ✓'])
    await c.end()
  })
  afterAll(async () => {
    await db?.drop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('restores a dropped database with every table, row and sequence as it was', async () => {
    const before = await snapshot(db.url)
    expect(Object.keys(before.tables)).toEqual(expect.arrayContaining(['users', 'posts', 'pgmigrations']))
    expect(before.tables.users.rows).toBeGreaterThan(300)
    expect(before.sequences.length).toBeGreaterThan(0)

    const file = join(dir, 'nightly.dump')
    const backup = await npm(['backup', '--', '--file', file], db.url)
    expect(backup.code, backup.output).toBe(0)
    expect(existsSync(file)).toBe(true)
    expect(existsSync(`${file}.partial`)).toBe(false)

    await db.drop()
    const restore = await npm(['restore', '--', '--file', file], db.url)
    expect(restore.code, restore.output).toBe(0)
    expect(await snapshot(db.url)).toEqual(before)

    // a database that already has tables is not overwritten without --clean
    const refused = await npm(['restore', '--', '--file', file], db.url)
    expect(refused.code).not.toBe(0)
    expect(await snapshot(db.url)).toEqual(before)
    const c = new pg.Client({ connectionString: db.url })
    await c.connect()
    await c.query('DELETE FROM posts WHERE id % 2 = 0')
    await c.end()
    const clean = await npm(['restore', '--', '--file', file, '--clean'], db.url)
    expect(clean.code, clean.output).toBe(0)
    expect(await snapshot(db.url)).toEqual(before)
  }, 180_000)

  it('leaves no file behind when the dump fails', async () => {
    const file = join(dir, 'failed.dump')
    const missing = new URL(db.url)
    missing.pathname = '/bastion_no_such_database'
    const res = await npm(['backup', '--', '--file', file, '--database-url', missing.toString()], db.url)
    expect(res.code).not.toBe(0)
    expect(existsSync(file)).toBe(false)
    expect(existsSync(`${file}.partial`)).toBe(false)
  }, 60_000)
})
