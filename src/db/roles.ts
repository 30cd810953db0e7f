// Least privilege. Migrations run as the owner role
// (MIGRATION_DATABASE_URL); right after them, the owner creates or updates the application role the
// server connects as (DATABASE_URL). That role may read and write the rows of every table in schema
// public and use its sequences, and nothing else: it owns nothing and has no CREATE on the schema
// (so no DDL), no TRUNCATE, and no access to the migration bookkeeping (pgmigrations). Grants are
// re-applied after every migration run, so a table a new migration adds is covered.
// The role's password is managed outside (the Kubernetes secret, docker/postgres/init-app-role.sh):
// a role created here can log in only once someone gives it one (or trust/cert auth allows it).
import pg from 'pg'
import type { Config } from '../config.js'

const SCHEMA = 'public'
const BOOKKEEPING = 'pgmigrations'
const q = pg.escapeIdentifier

/**
 * DATABASE_APP_ROLE, else the user of DATABASE_URL when MIGRATION_DATABASE_URL connects as another
 * user; null = one role for everything (the embedded database, a single-URL setup).
 */
export function appRoleName (config: Pick<Config, 'DATABASE_APP_ROLE' | 'DATABASE_URL' | 'MIGRATION_DATABASE_URL'>): string | null {
  if (config.DATABASE_APP_ROLE) return config.DATABASE_APP_ROLE
  if (!config.DATABASE_URL || !config.MIGRATION_DATABASE_URL) return null
  const app = decodeURIComponent(new URL(config.DATABASE_URL).username)
  const owner = decodeURIComponent(new URL(config.MIGRATION_DATABASE_URL).username)
  return app && app !== owner ? app : null
}

/** The grants, in order; all of them are idempotent. */
export function grantStatements (role: string): string[] {
  const r = q(role)
  return [
    // PostgreSQL 15 made this the default; older servers let every role create objects in public
    `REVOKE CREATE ON SCHEMA ${SCHEMA} FROM PUBLIC`,
    `REVOKE ALL ON SCHEMA ${SCHEMA} FROM ${r}`,
    `GRANT USAGE ON SCHEMA ${SCHEMA} TO ${r}`,
    // revoke first: TRUNCATE, REFERENCES or TRIGGER granted by hand earlier go away
    `REVOKE ALL ON ALL TABLES IN SCHEMA ${SCHEMA} FROM ${r}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${SCHEMA} TO ${r}`,
    `REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${SCHEMA} FROM ${r}`,
    // nextval and currval, not setval
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${SCHEMA} TO ${r}`,
    `REVOKE ALL ON TABLE ${SCHEMA}.${BOOKKEEPING} FROM ${r}`,
    `REVOKE ALL ON SEQUENCE ${SCHEMA}.${BOOKKEEPING}_id_seq FROM ${r}`
  ]
}

const ATTRIBUTES = ['SUPERUSER', 'CREATEDB', 'CREATEROLE', 'REPLICATION', 'BYPASSRLS'] as const

/**
 * Creates the role if it is missing (LOGIN, no password), strips powers it must not have, and
 * grants row access. Run as the owner of the tables. Throws when the role cannot be made safe.
 */
export async function applyAppRole (client: pg.ClientBase, role: string, log: (msg: string) => void = () => {}) {
  const { rows: [me] } = await client.query<{ user: string }>('SELECT current_user AS user')
  if (role === me.user) throw new Error(`application role ${role} is the migration role itself: give the server a role of its own`)
  const { rows: [found] } = await client.query<Record<string, boolean>>(`SELECT rolsuper AS "SUPERUSER", rolcreatedb AS "CREATEDB",
    rolcreaterole AS "CREATEROLE", rolreplication AS "REPLICATION", rolbypassrls AS "BYPASSRLS" FROM pg_roles WHERE rolname = $1`, [role])
  if (!found) {
    await client.query(`CREATE ROLE ${q(role)} LOGIN ${ATTRIBUTES.map((a) => `NO${a}`).join(' ')}`)
    log(`created role ${role} (LOGIN, no password: set it outside)`)
  } else {
    // only the attributes it has: a non-superuser owner may not even name SUPERUSER in ALTER ROLE
    const excess = ATTRIBUTES.filter((a) => found[a])
    if (excess.length > 0) {
      await client.query(`ALTER ROLE ${q(role)} ${excess.map((a) => `NO${a}`).join(' ')}`)
      log(`removed ${excess.join(', ')} from ${role}`)
    }
  }
  // Powers the grants cannot take away: membership of the owner, or objects of its own.
  const { rows: [risk] } = await client.query<{ member: boolean, owns: number }>(`
    SELECT pg_has_role($1, current_user, 'USAGE') AS member,
      (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $2 AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = $1)) AS owns`, [role, SCHEMA])
  if (risk.member) throw new Error(`application role ${role} is a member of ${me.user} and would inherit its DDL rights: REVOKE ${me.user} FROM ${role}`)
  if (risk.owns > 0) throw new Error(`application role ${role} owns ${risk.owns} relation(s) in ${SCHEMA}: ALTER ... OWNER TO ${me.user}`)
  await client.query('BEGIN')
  try {
    for (const sql of grantStatements(role)) await client.query(sql)
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK')
    throw err
  }
  log(`granted ${role} row access (SELECT, INSERT, UPDATE, DELETE) on ${SCHEMA}, no DDL, no TRUNCATE, nothing on ${BOOKKEEPING}`)
}

/** What a role can do beyond row access (production start-up warns about each one). */
export async function excessPrivileges (db: { query: (name: string, text: string) => Promise<{ rows: Array<Record<string, unknown>> }> }): Promise<string[]> {
  const { rows: [r] } = await db.query('role_privileges', `
    SELECT has_schema_privilege('${SCHEMA}', 'CREATE') AS "create",
      EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = '${SCHEMA}' AND tableowner = current_user) AS "owner",
      (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS "superuser"`)
  return Object.entries(r).filter(([, v]) => v === true).map(([k]) => k)
}
