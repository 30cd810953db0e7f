// `npm run migrate [-- --dry-run] [-- --down [--count N]]` against MIGRATION_DATABASE_URL (or DATABASE_URL),
// then the application role's grants (src/db/roles.ts).
import { parseArgs } from 'node:util'
import { loadConfigOrExit } from '../config.js'
import { connectionConfig } from './connection.js'
import { migrate } from './migrate.js'
import { appRoleName } from './roles.js'

const { values } = parseArgs({ options: { 'dry-run': { type: 'boolean', default: false }, down: { type: 'boolean', default: false }, count: { type: 'string' } } })
const config = loadConfigOrExit()
try {
  const url = config.MIGRATION_DATABASE_URL ?? config.DATABASE_URL
  if (!url) {
    process.stderr.write('npm run migrate needs DATABASE_URL or MIGRATION_DATABASE_URL (the embedded database migrates itself on start)\n')
    process.exit(1)
  }
  const ran = await migrate({
    connection: connectionConfig(url, config.DATABASE_SSL_CA_FILE),
    // the server's own role gets row access only (src/db/roles.ts); none with a single URL
    appRole: appRoleName(config),
    direction: values.down ? 'down' : 'up',
    count: values.count === undefined ? undefined : Number(values.count),
    dryRun: values['dry-run'],
    log: (msg) => process.stdout.write(`${msg}\n`)
  })
  process.stdout.write(`${values['dry-run'] ? 'would run' : 'ran'} ${ran.length} migration(s)${ran.length ? ': ' + ran.map((m) => m.name).join(', ') : ''}\n`)
} catch (err) {
  process.stderr.write(`${(err as Error).stack}\n`)
  process.exit(1)
}
