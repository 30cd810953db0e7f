// `npm run migrate [-- --dry-run] [-- --down [--count N]]` against MIGRATION_DATABASE_URL (or DATABASE_URL),
// then the application role's grants (src/db/roles.ts). Without either URL it migrates the embedded
// development database (EMBEDDED_DATABASE_DIR), started for the run and stopped after; a dry run
// there changes nothing either: with no cluster yet, the plan is made on a throwaway one.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type pg from 'pg'
import { loadConfigOrExit, type Config } from '../config.js'
import { connectionConfig } from './connection.js'
import { hasCluster, startEmbedded } from './embedded.js'
import { runningPostmaster } from './embedded-orphan.js'
import { migrate } from './migrate.js'
import { appRoleName } from './roles.js'

const { values } = parseArgs({ options: { 'dry-run': { type: 'boolean', default: false }, down: { type: 'boolean', default: false }, count: { type: 'string' } } })
const dryRun = values['dry-run']
const config = loadConfigOrExit()

/** the embedded database, started for this run; stop() also removes a throwaway cluster */
async function embedded (config: Config): Promise<{ connection: pg.ClientConfig, stop: () => Promise<void> }> {
  const dir = resolve(config.EMBEDDED_DATABASE_DIR)
  const pid = runningPostmaster(dir)
  if (pid) {
    process.stderr.write(`a server is running on the embedded database in ${dir} (postmaster ${pid}) and migrated it on start; stop it to run npm run migrate here\n`)
    process.exit(1)
  }
  if (!dryRun || hasCluster(dir)) {
    return startEmbedded({ dir, maxConnections: 5 })
  }
  // no cluster yet and a dry run: plan on a throwaway cluster, so .data stays as it was
  const scratch = mkdtempSync(join(tmpdir(), 'bastion-migrate-'))
  // as root, the cluster belongs to the postgres user, who must be able to enter this directory
  chmodSync(scratch, 0o755)
  const db = await startEmbedded({ dir: join(scratch, 'cluster'), maxConnections: 5, throwaway: true })
  return { connection: db.connection, stop: async () => { await db.stop(); rmSync(scratch, { recursive: true, force: true }) } }
}

const url = config.MIGRATION_DATABASE_URL ?? config.DATABASE_URL
const db = url ? undefined : await embedded(config)
try {
  const ran = await migrate({
    connection: db ? db.connection : connectionConfig(url!, config.DATABASE_SSL_CA_FILE),
    // the server's own role gets row access only (src/db/roles.ts); none with a single URL
    appRole: appRoleName(config),
    direction: values.down ? 'down' : 'up',
    count: values.count === undefined ? undefined : Number(values.count),
    dryRun,
    log: (msg) => process.stdout.write(`${msg}\n`)
  })
  process.stdout.write(`${dryRun ? 'would run' : 'ran'} ${ran.length} migration(s)${ran.length ? ': ' + ran.map((m) => m.name).join(', ') : ''}\n`)
} catch (err) {
  process.stderr.write(`${(err as Error).stack}\n`)
  process.exitCode = 1
} finally {
  await db?.stop()
}
