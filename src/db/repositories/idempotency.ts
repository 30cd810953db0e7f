// All SQL for Idempotency-Key (table idempotency_keys). The key row is claimed first, in the same
// transaction as the write: a concurrent retry with the same key waits on that row (its unique
// index) until the first attempt commits or rolls back, so one key writes once.
import type { Database, Inlined, Queryable } from '../database.js'

export interface IdempotentRequest { caller: string, key: string, requestHash: string, timeoutMs?: number }

/** what idempotency_claim raises for a live key (migrations/1764500000000_idempotency-claim.sql) */
const KEY_IN_USE = 'BIK01'

export function idempotencyRepository (db: Database, ttlHours: number) {
  // Claims (caller, key): a fresh or expired key is ours (one row inserted or updated), a live one
  // raises KEY_IN_USE. Sent with BEGIN and the write's first statement in one round trip
  // (TransactionOptions.fold), so its values are inlined literals (pg's escapeLiteral).
  const claim = (r: IdempotentRequest): Inlined => (literal) =>
    `SELECT idempotency_claim(${literal(r.caller)}, ${literal(r.key)}, ${literal(r.requestHash)}, ${literal(ttlHours)})`
  // the result, sent with COMMIT in one round trip
  const store = (r: IdempotentRequest, result: unknown): Inlined => (literal) =>
    `UPDATE idempotency_keys SET result = ${literal(JSON.stringify(result))}::jsonb WHERE caller = ${literal(r.caller)} AND key = ${literal(r.key)}`

  /** a live key: what it holds (undefined: expired and cleaned up since the claim found it) */
  async function held<T> (r: IdempotentRequest): Promise<{ requestHash: string, result: T } | undefined> {
    const { rows } = await db.query<{ requestHash: string, result: T }>('idempotency_find',
      'SELECT request_hash AS "requestHash", result FROM idempotency_keys WHERE caller = $1 AND key = $2', [r.caller, r.key])
    return rows[0]
  }

  /**
   * Runs write once per (caller, key) in one transaction with the key and its result.
   * Returns the write's result, or, for a key already used, what it holds (the caller checks
   * requestHash). A failed write rolls back the claim too: the key can be used again.
   * Two round trips for a first use: BEGIN with the claim and the write's first statement (the
   * claim refusing aborts the transaction before the write runs), the result with COMMIT.
   */
  async function once<T> (r: IdempotentRequest, write: (tx: Queryable) => Promise<T>): Promise<{ replay: boolean, requestHash: string, result: T }> {
    try {
      const result = await db.transaction<T>(write, { timeoutMs: r.timeoutMs, first: claim(r), fold: { refusal: KEY_IN_USE }, last: (result) => store(r, result) })
      return { replay: false, requestHash: r.requestHash, result }
    } catch (err) {
      if ((err as { code?: string }).code !== KEY_IN_USE) throw err
    }
    // the claim waited on the key's row until its first use committed: a statement of its own sees
    // it; gone since (expired and cleaned up), the key is free: claim it again
    const found = await held<T>(r)
    return found ? { replay: true, ...found } : once(r, write)
  }

  return {
    once,
    /** Deletes expired keys (IDEMPOTENCY_TTL_HOURS); returns how many. */
    async cleanup (): Promise<number> {
      const { rowCount } = await db.query('idempotency_cleanup', 'DELETE FROM idempotency_keys WHERE expires_at <= now()')
      return rowCount ?? 0
    }
  }
}

export type IdempotencyRepository = ReturnType<typeof idempotencyRepository>
