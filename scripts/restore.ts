// `npm run restore -- --file x.dump [--clean] [--no-owner] [--database-url URL]`: pg_restore of a
// `npm run backup` dump into MIGRATION_DATABASE_URL (or DATABASE_URL). A missing database is
// created; a database that already has tables is refused unless --clean (drop and recreate the
// dump's objects). One transaction: it applies whole, or not at all.
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { databaseName, databaseUrl, fail, pgTool, withDatabase } from './pg-tools.js'

const { values } = parseArgs({
  options: {
    file: { type: 'string' },
    clean: { type: 'boolean', default: false },
    // restoring into another cluster, where the dump's roles do not exist
    'no-owner': { type: 'boolean', default: false },
    'database-url': { type: 'string' }
  }
})
if (!values.file || !existsSync(values.file)) fail('npm run restore needs --file <a dump written by npm run backup>')
const url = databaseUrl(values['database-url'], 'restore')
const name = databaseName(url)

async function prepareDatabase () {
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') })
  await admin.connect()
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`)
      return
    }
  } finally {
    await admin.end()
  }
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  try {
    const tables = await db.query("SELECT 1 FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') LIMIT 1")
    if (tables.rowCount! > 0 && !values.clean) fail(`database ${name} already has tables: pass --clean to replace them with the dump's`)
  } finally {
    await db.end()
  }
}

try {
  await pgTool('pg_restore', ['--list', values.file!])
  await prepareDatabase()
  const args = ['--exit-on-error', '--single-transaction']
  if (values.clean) args.push('--clean', '--if-exists')
  if (values['no-owner']) args.push('--no-owner', '--no-privileges')
  await pgTool('pg_restore', [...args, values.file!], url, { inherit: true })
  process.stdout.write(`restored ${values.file} into ${name}\n`)
} catch (err) {
  fail(`restore failed: ${(err as Error).message}`)
}
