// Least privilege on a real PostgreSQL: an owner role that is not a superuser (as on a managed
// database) migrates a database of its own; `npm run migrate` then creates the application role.
// Connected as that role, DDL, TRUNCATE and the migration bookkeeping are refused, and the API
// works. Roles are cluster-wide and the server is shared: unique names, dropped afterwards.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import type { App } from '../../src/app.js'
import { migrate } from '../../src/db/migrate.js'
import { appRoleName, excessPrivileges } from '../../src/db/roles.js'
import { ROOT } from '../../src/paths.js'
import { buildTestApp, gql, token } from '../helpers/app.js'
import { TEST_DATABASE_URL } from '../helpers/services.js'

const run = promisify(execFile)

describe('least-privilege database roles', () => {
  const id = randomBytes(4).toString('hex')
  const owner = `bastion_owner_${id}`
  const appRole = `bastion_app_${id}`
  const database = `bastion_r_${id}`
  let admin: pg.Client
  let ownerUrl: string
  let appUrl: string
  let app: App | undefined
  let migrateOutput: string

  const urlAs = (user: string) => {
    const u = new URL(TEST_DATABASE_URL)
    u.username = user
    u.password = ''
    u.pathname = `/${database}`
    return u.toString()
  }

  /** runs each statement as `user` in its own session; the SQLSTATE each one failed with, or 'ok' */
  async function outcomes (user: string, statements: string[]) {
    const c = new pg.Client({ connectionString: urlAs(user) })
    await c.connect()
    try {
      const out: Record<string, string> = {}
      for (const sql of statements) out[sql] = await c.query(sql).then(() => 'ok', (err: { code?: string }) => err.code ?? 'error')
      return out
    } finally {
      await c.end()
    }
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
    await admin.connect()
    // CREATEROLE, not superuser: what a managed PostgreSQL gives the account that owns the database
    await admin.query(`CREATE ROLE ${owner} LOGIN CREATEROLE`)
    await admin.query(`CREATE DATABASE ${database} OWNER ${owner}`)
    ownerUrl = urlAs(owner)
    appUrl = urlAs(appRole)
    // the real command, with the two URLs a deployment sets (k8s Secret, compose)
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/db/migrate-cli.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MIGRATION_DATABASE_URL: ownerUrl, DATABASE_URL: appUrl }
    })
    migrateOutput = stdout
  })

  afterAll(async () => {
    await app?.close()
    await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await admin?.query(`DROP ROLE IF EXISTS ${appRole}`)
    await admin?.query(`DROP ROLE IF EXISTS ${owner}`)
    await admin?.end()
  })

  it('npm run migrate creates the application role named by DATABASE_URL, with no powers', async () => {
    expect(migrateOutput).toContain(`created role ${appRole}`)
    const { rows } = await admin.query(`SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls
      FROM pg_roles WHERE rolname = $1`, [appRole])
    expect(rows).toEqual([{ rolcanlogin: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false }])
  })

  it('refuses DDL, TRUNCATE, sequence resets and the migration table to the application role', async () => {
    const refused = [
      'DROP TABLE posts',
      'ALTER TABLE users ADD COLUMN nickname text',
      'TRUNCATE users',
      'CREATE TABLE notes (id int)',
      'CREATE INDEX ON users (name)',
      'CREATE SCHEMA private',
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
      "SELECT setval(pg_get_serial_sequence('users', 'id'), 1000)",
      'SELECT count(*) FROM pgmigrations',
      "INSERT INTO pgmigrations (name, run_on) VALUES ('x', now())",
      'DELETE FROM pgmigrations'
    ]
    expect(await outcomes(appRole, refused)).toEqual(Object.fromEntries(refused.map((s) => [s, '42501'])))
    // the same statements are the owner's to run (the test would pass vacuously otherwise)
    const allowedToOwner = ['CREATE TABLE notes (id int)', 'ALTER TABLE notes ADD COLUMN body text', 'TRUNCATE notes', 'DROP TABLE notes']
    expect(await outcomes(owner, allowedToOwner)).toEqual(Object.fromEntries(allowedToOwner.map((s) => [s, 'ok'])))
    expect(await excessPrivileges(wrap(appUrl))).toEqual([])
    expect(await excessPrivileges(wrap(ownerUrl))).toEqual(['create', 'owner'])
  })

  it('serves the API as the application role: reads, writes, Idempotency-Key', async () => {
    app = await buildTestApp(appUrl)
    const admin = token('1', ['admin'])
    const created = await gql(app, 'mutation { createUser(input: { name: "Ada", email: "ada@example.com" }) { id name } }',
      { token: admin, headers: { 'idempotency-key': `roles-${id}` } })
    expect(created.body).toEqual({ data: { createUser: { id: '1', name: 'Ada' } } })
    const ada = token('1')
    const post = await gql(app, 'mutation { createPost(input: { title: "Hello", body: "Least privilege" }) { id title author { id } } }', { token: ada })
    expect(post.body).toEqual({ data: { createPost: { id: '1', title: 'Hello', author: { id: '1' } } } })
    const updated = await gql(app, 'mutation { updateUser(id: "1", input: { name: "Ada L." }) { name } }', { token: ada })
    expect(updated.body).toEqual({ data: { updateUser: { name: 'Ada L.' } } })
    const read = await gql(app, '{ users { id name posts { title } } }')
    expect(read.body).toEqual({ data: { users: [{ id: '1', name: 'Ada L.', posts: [{ title: 'Hello' }] }] } })
    const deleted = await gql(app, 'mutation { deleteUser(id: "1") }', { token: ada })
    expect(deleted.body).toEqual({ data: { deleteUser: true } })
    const ready = await app.inject({ url: '/ready' })
    expect(ready.statusCode).toBe(200)
  })

  it('covers tables added later and takes back powers granted by hand on the next migration', async () => {
    await outcomes(owner, ['CREATE TABLE later (id bigint GENERATED ALWAYS AS IDENTITY, note text)'])
    await admin.query(`ALTER ROLE ${appRole} CREATEDB`)
    await outcomes(owner, [`GRANT TRUNCATE, REFERENCES, TRIGGER ON users TO ${appRole}`, `GRANT UPDATE ON SEQUENCE users_id_seq TO ${appRole}`])
    expect(await migrate({ connection: ownerUrl, appRole })).toEqual([])
    const { rows } = await admin.query('SELECT rolcreatedb FROM pg_roles WHERE rolname = $1', [appRole])
    expect(rows).toEqual([{ rolcreatedb: false }])
    const statements = ["INSERT INTO later (note) VALUES ('x')", 'SELECT note FROM later', 'TRUNCATE users', "SELECT setval('users_id_seq', 1000)"]
    expect(await outcomes(appRole, statements)).toEqual(Object.fromEntries(statements.map((s, i) => [s, i < 2 ? 'ok' : '42501'])))
  })

  it('refuses to treat the migration role as the application role', async () => {
    await expect(migrate({ connection: ownerUrl, appRole: owner })).rejects.toThrow(/migration role itself/)
  })

  it('shows the grants in --dry-run and changes nothing', async () => {
    const other = `bastion_dry_${id}`
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/db/migrate-cli.ts', '--dry-run'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MIGRATION_DATABASE_URL: ownerUrl, DATABASE_URL: ownerUrl, DATABASE_APP_ROLE: other }
    })
    expect(stdout).toContain(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "${other}";`)
    const { rows } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [other])
    expect(rows).toEqual([])
  })

  it('keeps one role when DATABASE_URL and MIGRATION_DATABASE_URL name the same user', () => {
    expect(appRoleName({ DATABASE_URL: ownerUrl, MIGRATION_DATABASE_URL: ownerUrl, DATABASE_APP_ROLE: undefined })).toBeNull()
    expect(appRoleName({ DATABASE_URL: ownerUrl, MIGRATION_DATABASE_URL: undefined, DATABASE_APP_ROLE: undefined })).toBeNull()
    expect(appRoleName({ DATABASE_URL: appUrl, MIGRATION_DATABASE_URL: ownerUrl, DATABASE_APP_ROLE: undefined })).toBe(appRole)
    expect(appRoleName({ DATABASE_URL: appUrl, MIGRATION_DATABASE_URL: ownerUrl, DATABASE_APP_ROLE: 'other_role' })).toBe('other_role')
  })
})

/** a one-connection Queryable for excessPrivileges */
function wrap (url: string) {
  return {
    async query (_name: string, text: string) {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      try { return await c.query(text) } finally { await c.end() }
    }
  }
}
