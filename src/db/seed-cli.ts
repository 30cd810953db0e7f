// `npm run seed`: the deterministic demo data set; running it twice changes nothing.
import { loadConfigOrExit } from '../config.js'
import { connectionConfig } from './connection.js'
import { seedDatabase } from './seed.js'

const config = loadConfigOrExit()
try {
  if (!config.DATABASE_URL) {
    process.stderr.write('npm run seed needs DATABASE_URL (the embedded database seeds itself on start)\n')
    process.exit(1)
  }
  const result = await seedDatabase(connectionConfig(config.DATABASE_URL, config.DATABASE_SSL_CA_FILE),
    { connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS })
  process.stdout.write(`seeded ${result.users} users and ${result.posts} posts\n`)
} catch (err) {
  process.stderr.write(`${(err as Error).stack}\n`)
  process.exit(1)
}
