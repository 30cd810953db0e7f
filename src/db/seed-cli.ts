// `npm run seed`: the deterministic demo data set; running it twice changes nothing.
import { ConfigError, loadConfig } from '../config.js'
import { connectionConfig } from './connection.js'
import { createDatabase } from './database.js'
import { seed } from './seed.js'

try {
  const config = loadConfig()
  if (!config.DATABASE_URL) {
    process.stderr.write('npm run seed needs DATABASE_URL (the embedded database seeds itself on start)\n')
    process.exit(1)
  }
  const db = createDatabase({
    connection: connectionConfig(config.DATABASE_URL, config.DATABASE_SSL_CA_FILE), min: 0, max: 1, connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: 1000, statementTimeoutMs: 0, preparedStatements: false, onIdleError: () => {}
  })
  const result = await db.transaction((tx) => seed(tx))
  await db.close()
  process.stdout.write(`seeded ${result.users} users and ${result.posts} posts\n`)
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : (err as Error).stack}\n`)
  process.exit(1)
}
