// `npm run token -- --sub <id> [--roles admin,editor] [--expires 3600]`: a development JWT,
// HS256 with JWT_SECRET; or `--alg RS256|ES256|EdDSA|... --key private.pem [--kid k1]`, signed with
// a local private key whose public half a development JWKS serves (docs/identity.md).
// Production tokens come from your identity provider; this refuses to run in production.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { Algorithm } from 'fast-jwt'
import { signToken } from './auth/jwt.js'
import { JWT_ALGORITHM_NAMES, loadConfigOrExit } from './config.js'

const { values } = parseArgs({
  options: {
    sub: { type: 'string', default: '1' },
    roles: { type: 'string', default: '' },
    expires: { type: 'string', default: '3600' },
    alg: { type: 'string', default: 'HS256' },
    key: { type: 'string' },
    kid: { type: 'string' }
  }
})

function fail (message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

const config = loadConfigOrExit()
if (config.isProduction) fail('npm run token mints development tokens and refuses to run with NODE_ENV=production')
const alg = values.alg as Algorithm
if (!(JWT_ALGORITHM_NAMES as readonly string[]).includes(alg)) fail(`--alg: one of ${JWT_ALGORITHM_NAMES.join(', ')}`)
const hs = alg.startsWith('HS')
if (!hs && values.key === undefined) fail(`--alg ${alg} needs --key <private key PEM file>`)
if (hs && values.key !== undefined) fail('--key is for RS, PS, ES and EdDSA; HS tokens use JWT_SECRET')
let privateKey: string | undefined
try {
  privateKey = values.key === undefined ? undefined : readFileSync(values.key, 'utf8')
} catch (err) {
  fail(`--key: cannot read ${values.key} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
}
const roles = values.roles.split(',').map((r) => r.trim()).filter(Boolean)
const expiresInSeconds = Number(values.expires)
if (!Number.isSafeInteger(expiresInSeconds) || expiresInSeconds <= 0) fail('--expires: a positive number of seconds')
process.stdout.write(signToken(config, { sub: values.sub, roles, expiresInSeconds, algorithm: alg, privateKey, kid: values.kid }) + '\n')
