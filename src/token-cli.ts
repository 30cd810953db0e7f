// `npm run token -- --sub <id> [--roles admin,editor] [--expires 3600]`: a development JWT.
// Production tokens come from your identity provider; this refuses to run in production.
import { parseArgs } from 'node:util'
import { signToken } from './auth/jwt.js'
import { ConfigError, loadConfig } from './config.js'

const { values } = parseArgs({
  options: { sub: { type: 'string', default: '1' }, roles: { type: 'string', default: '' }, expires: { type: 'string', default: '3600' } }
})
try {
  const config = loadConfig()
  if (config.isProduction) {
    process.stderr.write('npm run token mints development tokens and refuses to run with NODE_ENV=production\n')
    process.exit(1)
  }
  const roles = values.roles.split(',').map((r) => r.trim()).filter(Boolean)
  process.stdout.write(signToken(config, { sub: values.sub, roles, expiresInSeconds: Number(values.expires) }) + '\n')
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`${err.message}\n`)
  process.exit(1)
}
