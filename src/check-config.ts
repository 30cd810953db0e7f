// `npm run check-config`: validates the environment, prints every problem, exits non-zero.
import { ConfigError, loadConfig } from './config.js'

try {
  const config = loadConfig()
  process.stdout.write(`configuration is valid (NODE_ENV=${config.NODE_ENV})\n`)
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`${err.message}\n`)
  process.exit(1)
}
