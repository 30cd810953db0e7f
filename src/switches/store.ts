// Switches in Redis: one hash (`<REDIS_KEY_PREFIX>switches`, target -> JSON {reason, by, at}) that
// survives restarts, and one pub/sub channel that tells every instance to re-read it at once.
// The command (src/switch-cli.ts) and the tests write through these functions; servers only read.
import type { GraphQLSchema } from 'graphql'
import type { Redis } from 'ioredis'
import { MAX_BY, MAX_REASON, MAX_SWITCHES, parseSwitch, targetProblem, type Switch } from './targets.js'

/** the hash, relative to the client's keyPrefix (ioredis adds REDIS_KEY_PREFIX) */
const SWITCHES_KEY = 'switches'
/** pub/sub channels are not prefixed by ioredis: the prefix is added by hand */
export const switchesChannel = (prefix: string) => `${prefix}switches:changed`

/** the last AUDIT_MAX changes, newest first (the command also writes each one as a log line) */
const AUDIT_KEY = 'switches:audit'
const AUDIT_MAX = 1000

export class SwitchError extends Error {}

export interface AuditEntry { action: 'disable' | 'enable', target: string, by: string, at: string, reason?: string }

/**
 * every valid switch in Redis (entries this code would not have written are ignored); a server
 * passes the schema it serves, so field targets are checked without building the schema again
 */
export async function readSwitches (redis: Redis, schema?: GraphQLSchema): Promise<Switch[]> {
  const all = await redis.hgetall(SWITCHES_KEY)
  const out: Switch[] = []
  for (const [target, raw] of Object.entries(all)) {
    if (out.length >= MAX_SWITCHES) break
    const s = parseSwitch(target, raw, schema)
    if (s) out.push(s)
  }
  return out.sort((a, b) => a.target.localeCompare(b.target))
}

export interface DisableInput { target: string, reason: string, by: string, now?: Date }

/** sets (or updates) a switch and tells every instance; throws SwitchError on a bad input */
export async function disableSwitch (redis: Redis, prefix: string, input: DisableInput): Promise<Switch> {
  const problem = targetProblem(input.target)
  if (problem) throw new SwitchError(problem)
  const reason = input.reason.trim()
  if (!reason) throw new SwitchError('--reason is required: clients see it, and the audit log keeps it')
  if (reason.length > MAX_REASON) throw new SwitchError(`--reason is at most ${MAX_REASON} characters`)
  const by = input.by.trim().slice(0, MAX_BY) || 'unknown'
  const existing = await redis.hexists(SWITCHES_KEY, input.target)
  if (!existing && await redis.hlen(SWITCHES_KEY) >= MAX_SWITCHES) {
    throw new SwitchError(`at most ${MAX_SWITCHES} switches at once; enable some first`)
  }
  const sw: Switch = { target: input.target, reason, by, at: (input.now ?? new Date()).toISOString() }
  const audit: AuditEntry = { action: 'disable', target: sw.target, by, at: sw.at, reason }
  await redis.multi()
    .hset(SWITCHES_KEY, sw.target, JSON.stringify({ reason: sw.reason, by: sw.by, at: sw.at }))
    .lpush(AUDIT_KEY, JSON.stringify(audit)).ltrim(AUDIT_KEY, 0, AUDIT_MAX - 1)
    .publish(switchesChannel(prefix), sw.target)
    .exec()
  return sw
}

/** removes a switch and tells every instance; null when it was not set */
export async function enableSwitch (redis: Redis, prefix: string, input: { target: string, by: string, now?: Date }): Promise<AuditEntry | null> {
  if (targetProblem(input.target) !== null || !await redis.hexists(SWITCHES_KEY, input.target)) return null
  const audit: AuditEntry = { action: 'enable', target: input.target, by: input.by.trim().slice(0, MAX_BY) || 'unknown', at: (input.now ?? new Date()).toISOString() }
  await redis.multi()
    .hdel(SWITCHES_KEY, input.target)
    .lpush(AUDIT_KEY, JSON.stringify(audit)).ltrim(AUDIT_KEY, 0, AUDIT_MAX - 1)
    .publish(switchesChannel(prefix), input.target)
    .exec()
  return audit
}
