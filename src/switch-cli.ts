// `npm run switch -- disable|enable|list`: turns operations, fields or all mutations off and on
// again on every instance, through the Redis the servers use (the same REDIS_* settings). See
// docs/operations-switches.md.
import { readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { pino } from 'pino'
import { loadConfigOrExit } from './config.js'
import { loggerOptions } from './logger.js'
import { createRedis } from './plugins/redis.js'
import { runSwitchCommand } from './switches/command.js'

const config = loadConfigOrExit()
try {
  if (!config.REDIS_URL) {
    process.stderr.write('npm run switch needs REDIS_URL: without Redis, switches live inside each server process only\n')
    process.exit(1)
  }
  const redis = createRedis({
    url: config.REDIS_URL,
    commandTimeoutMs: 5000,
    keyPrefix: config.REDIS_KEY_PREFIX,
    name: 'bastion-switch',
    tlsCa: config.REDIS_TLS_CA_FILE ? readFileSync(config.REDIS_TLS_CA_FILE, 'utf8') : undefined
  })
  redis.on('error', () => {})
  await redis.connect()
  let user = 'unknown'
  try { user = userInfo().username } catch { /* no passwd entry (a container user) */ }
  const code = await runSwitchCommand(process.argv.slice(2), {
    redis,
    prefix: config.REDIS_KEY_PREFIX,
    // the audit line goes to stderr as JSON, so stdout stays the human answer
    log: pino({ ...loggerOptions(config), name: 'switch' }, pino.destination(2)),
    user,
    out: (line) => process.stdout.write(`${line}\n`)
  })
  redis.disconnect()
  process.exit(code)
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`)
  process.exit(1)
}
