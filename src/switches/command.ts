// `npm run switch -- disable <target> --reason "..." [--by name]`, `enable <target> [--by name]`,
// `list`: the command's logic, apart from the process (src/switch-cli.ts), so tests run this code.
// Each change is one audit log line: who (the OS user, or --by), what, when and why.
import { parseArgs } from 'node:util'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { disableSwitch, enableSwitch, readSwitches, SwitchError } from './store.js'

const USAGE = `usage:
  npm run switch -- disable <Operation | Type.field | Mutation> --reason "<why>" [--by <who>]
  npm run switch -- enable <target> [--by <who>]
  npm run switch -- list`

export interface CommandDeps {
  redis: Redis
  /** REDIS_KEY_PREFIX (the channel name) */
  prefix: string
  log: Logger
  /** the OS user, when --by is not given */
  user: string
  out: (line: string) => void
}

/** runs one command; returns the exit code */
export async function runSwitchCommand (argv: string[], deps: CommandDeps): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { reason: { type: 'string' }, by: { type: 'string' } } })
  } catch (err) {
    deps.out(`${(err as Error).message}\n${USAGE}`)
    return 2
  }
  const [action, target, ...extra] = parsed.positionals
  const by = parsed.values.by ?? deps.user
  try {
    if (action === 'list' && target === undefined) {
      const all = await readSwitches(deps.redis)
      if (all.length === 0) deps.out('no switches: everything is on')
      for (const s of all) deps.out(`${s.target}\tdisabled by ${s.by} at ${s.at}: ${s.reason}`)
      return 0
    }
    if (action === 'disable' && target && extra.length === 0) {
      const sw = await disableSwitch(deps.redis, deps.prefix, { target, reason: parsed.values.reason ?? '', by })
      deps.log.warn({ audit: 'feature_switch', action: 'disable', target: sw.target, by: sw.by, at: sw.at, reason: sw.reason }, 'feature switch disabled')
      deps.out(`${sw.target} disabled on every instance: requests get FEATURE_DISABLED`)
      return 0
    }
    if (action === 'enable' && target && extra.length === 0) {
      const entry = await enableSwitch(deps.redis, deps.prefix, { target, by })
      if (!entry) { deps.out(`${target.slice(0, 200)} is not disabled`); return 1 }
      deps.log.warn({ audit: 'feature_switch', action: 'enable', target: entry.target, by: entry.by, at: entry.at }, 'feature switch enabled')
      deps.out(`${entry.target} enabled again on every instance`)
      return 0
    }
  } catch (err) {
    if (!(err instanceof SwitchError)) throw err
    deps.out(`${err.message}\n${USAGE}`)
    return 2
  }
  deps.out(USAGE)
  return 2
}
