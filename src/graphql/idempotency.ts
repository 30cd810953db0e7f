// Idempotency-Key for the creating mutations (those wrapped in idempotent()), scoped to the caller (sub).
// A key covers one creating field: its name and arguments are the payload, hashed (SHA-256 over
// a canonical JSON, so aliases, variables or persisted queries do not change it). The first
// successful result is stored with the key in the write's own transaction; a retry returns it and
// writes nothing; the same key with another payload is IDEMPOTENCY_KEY_CONFLICT. A failed attempt
// stores nothing, so it may be retried with the same key. Keys live IDEMPOTENCY_TTL_HOURS.
import { createHash } from 'node:crypto'
import type { GraphQLResolveInfo } from 'graphql'
import type { MercuriusContext } from 'mercurius'
import { stringify } from 'safe-stable-stringify'
import type { Queryable } from '../db/database.js'
import { gqlError } from '../error-codes.js'
import type { Context } from './context.js'
import { domains, type TransactionalOf } from './domain.js'
import { remainingMs } from './deadline.js'

const IDEMPOTENCY_HEADER = 'idempotency-key'
// printable ASCII, as Stripe and the IETF draft use: a UUID fits, a header injection does not
const KEY = /^[\x21-\x7e]{1,255}$/

/** what a creating write may use: each domain's `transactional` repositories, bound to the key's transaction when there is a key */
export type Repos = TransactionalOf<typeof domains>

function reposOn (tx: Queryable): Repos {
  return Object.assign({}, ...domains.map((domain) => domain.transactional(tx))) as Repos
}

/**
 * Runs a creating write once per Idempotency-Key (when the request has one). `write` receives
 * the repositories to use: bound to the key's transaction when there is a key.
 */
export async function idempotent<T> (context: Context, info: GraphQLResolveInfo, args: unknown, write: (repos: Repos) => Promise<T>): Promise<T> {
  const ctx = context as MercuriusContext
  const header = ctx.reply.request.headers[IDEMPOTENCY_HEADER]
  if (header === undefined) return write(ctx)
  if (typeof header !== 'string' || !KEY.test(header)) {
    throw gqlError('BAD_USER_INPUT', 'Idempotency-Key: 1 to 255 printable ASCII characters', { field: 'Idempotency-Key' })
  }
  const requestHash = createHash('sha256').update(stringify({ field: info.fieldName, args }) ?? '').digest('hex')
  const outcome = await ctx.idempotency.once({ caller: ctx.caller!.sub, key: header, requestHash, timeoutMs: remainingMs(ctx) },
    (tx) => write(reposOn(tx)))
  if (outcome.requestHash !== requestHash) throw gqlError('IDEMPOTENCY_KEY_CONFLICT')
  if (outcome.replay) ctx.reply.header('idempotent-replayed', 'true')
  return outcome.result
}
