// `npm run backup [-- --file backups/x.dump] [--database-url URL]`: pg_dump in its custom format
// (-Fc: compressed, restorable selectively and in parallel by `npm run restore`). The dump is
// written beside its final name and renamed only once pg_restore can read it back, so a failed
// or interrupted backup never leaves a file that looks complete.
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { checkVersions, databaseName, databaseUrl, fail, pgTool } from './pg-tools.js'

const { values } = parseArgs({ options: { file: { type: 'string' }, 'database-url': { type: 'string' } } })
const url = databaseUrl(values['database-url'], 'backup')
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
const file = values.file ?? join('backups', `${databaseName(url)}-${stamp}.dump`)
const partial = `${file}.partial`

try {
  await checkVersions(url)
  mkdirSync(dirname(file), { recursive: true })
  await pgTool('pg_dump', ['--format=custom', `--file=${partial}`], url, { inherit: true })
  await pgTool('pg_restore', ['--list', partial])
  renameSync(partial, file)
  process.stdout.write(`wrote ${file} (${statSync(file).size} bytes)\n`)
} catch (err) {
  rmSync(partial, { force: true })
  fail(`backup failed: ${(err as Error).message}`)
}
