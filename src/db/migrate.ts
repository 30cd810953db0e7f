// Migrations with node-pg-migrate (SQL files in migrations/). https://salsita.github.io/node-pg-migrate/
import { runner } from 'node-pg-migrate'
import pg from 'pg'
import { MIGRATIONS_DIR } from '../paths.js'
import { applyAppRole, grantStatements } from './roles.js'

export interface MigrateOptions {
  connection: string | pg.ClientConfig
  direction?: 'up' | 'down'
  /** how many to run; default all up, one down */
  count?: number
  dryRun?: boolean
  log?: (msg: string) => void
  /** after migrating, create or update this application role with row access only (src/db/roles.ts) */
  appRole?: string | null
}

export async function migrate (opts: MigrateOptions) {
  const client = new pg.Client(typeof opts.connection === 'string' ? { connectionString: opts.connection } : opts.connection)
  await client.connect()
  try {
    const log = opts.log ?? (() => {})
    // --dry-run changes nothing: node-pg-migrate still creates its pgmigrations table in a dry run, so
    // the whole run happens in a transaction of ours that is rolled back (no advisory lock needed)
    const dryRun = opts.dryRun ?? false
    if (dryRun) await client.query('BEGIN')
    const ran = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      migrationsTable: 'pgmigrations',
      direction: opts.direction ?? 'up',
      count: opts.count ?? (opts.direction === 'down' ? 1 : Infinity),
      dryRun,
      noLock: dryRun,
      checkOrder: true,
      singleTransaction: !dryRun,
      // verbose: the SQL of each step goes to debug, which is how --dry-run shows its plan
      verbose: true,
      logger: { debug: log, info: log, warn: log, error: log }
    })
    // fresh planner statistics for what the migrations changed (a new index or column has none
    // until autovacuum's next analyze); the owner analyzes the tables it owns
    if (ran.length > 0 && !dryRun && (opts.direction ?? 'up') === 'up') {
      await client.query('ANALYZE')
      log('analyzed the database after migrating')
    }
    if (opts.appRole && (opts.direction ?? 'up') === 'up') {
      if (dryRun) {
        log(`-- application role ${opts.appRole}: created if missing (LOGIN, no password), then`)
        for (const sql of grantStatements(opts.appRole)) log(`${sql};`)
      }
      else await applyAppRole(client, opts.appRole, log)
    }
    if (dryRun) await client.query('ROLLBACK')
    return ran
  } finally {
    await client.end()
  }
}
