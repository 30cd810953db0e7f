// All SQL for Idempotency-Key (table idempotency_keys). The key row is claimed first, in the same
// transaction as the write: a concurrent retry with the same key waits on that row (its unique
// index) until the first attempt commits or rolls back, so one key writes once.
import type { Database, Inlined, Queryable } from '../database.js'

export interface IdempotentRequest { caller: string, key: string, requestHash: string, timeoutMs?: number }

export function idempotencyRepository (db: Database, ttlHours: number) {
  // Claims (caller, key): a fresh or expired key is ours (one row inserted or updated). Sent with
  // BEGIN in one round trip, so its values are inlined literals (pg's escapeLiteral).
  const claim = (r: IdempotentRequest): Inlined => (literal) => `
      INSERT INTO idempotency_keys AS k (caller, key, request_hash, expires_at)
      VALUES (${literal(r.caller)}, ${literal(r.key)}, ${literal(r.requestHash)}, now() + make_interval(hours => ${literal(ttlHours)}::int))
      ON CONFLICT (caller, key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, result = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
        WHERE k.expires_at <= now()`
  // the result, sent with COMMIT in one round trip
  const store = (r: IdempotentRequest, result: unknown): Inlined => (literal) =>
    `UPDATE idempotency_keys SET result = ${literal(JSON.stringify(result))}::jsonb WHERE caller = ${literal(r.caller)} AND key = ${literal(r.key)}`

  /** a live key: what it holds. A statement of its own, after the claim waited on the key's row: it sees the row committed since */
  async function held<T> (tx: Queryable, r: IdempotentRequest): Promise<{ requestHash: string, result: T }> {
    const { rows } = await tx.query<{ requestHash: string, result: T }>('idempotency_find',
      'SELECT request_hash AS "requestHash", result FROM idempotency_keys WHERE caller = $1 AND key = $2', [r.caller, r.key])
    return rows[0]
  }

  return {
    /**
     * Runs write once per (caller, key) in one transaction with the key and its result.
     * Returns the write's result, or, for a key already used, what it holds (the caller checks
     * requestHash). A failed write rolls back the claim too: the key can be used again.
     * Three round trips for a first use: BEGIN with the claim, the write, the result with COMMIT.
     */
    async once<T> (r: IdempotentRequest, write: (tx: Queryable) => Promise<T>): Promise<{ replay: boolean, requestHash: string, result: T }> {
      return db.transaction<{ replay: boolean, requestHash: string, result: T }>(async (tx, claimed) => {
        if (claimed?.rowCount !== 1) {
          const { requestHash, result } = await held<T>(tx, r)
          return { replay: true, requestHash, result }
        }
        return { replay: false, requestHash: r.requestHash, result: await write(tx) }
      }, { timeoutMs: r.timeoutMs, first: claim(r), last: (o) => o.replay ? undefined : store(r, o.result) })
    },
    /** Deletes expired keys (IDEMPOTENCY_TTL_HOURS); returns how many. */
    async cleanup (): Promise<number> {
      const { rowCount } = await db.query('idempotency_cleanup', 'DELETE FROM idempotency_keys WHERE expires_at <= now()')
      return rowCount ?? 0
    }
  }
}

export type IdempotencyRepository = ReturnType<typeof idempotencyRepository>
