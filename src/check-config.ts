// `npm run check-config`: validates the environment, prints every problem, exits non-zero.
import { loadConfigOrExit } from './config.js'

const config = loadConfigOrExit()
process.stdout.write(`configuration is valid (NODE_ENV=${config.NODE_ENV})\n`)
