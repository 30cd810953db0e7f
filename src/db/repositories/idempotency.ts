// All SQL for Idempotency-Key (table idempotency_keys). The key row is claimed first, in the same
// transaction as the write: a concurrent retry with the same key waits on that row (its unique
// index) until the first attempt commits or rolls back, so one key writes once.
import type { Database, Queryable } from '../database.js'

export type Claim<T> = { claimed: true } | { claimed: false, requestHash: string, result: T }

export interface IdempotentRequest { caller: string, key: string, requestHash: string, timeoutMs?: number }

export function idempotencyRepository (db: Database, ttlHours: number) {
  /** Claims (caller, key): a fresh or expired key is ours; a live one returns what it holds. */
  async function claim<T> (tx: Queryable, r: IdempotentRequest): Promise<Claim<T>> {
    const { rowCount } = await tx.query('idempotency_claim', `
      INSERT INTO idempotency_keys AS k (caller, key, request_hash, expires_at)
      VALUES ($1, $2, $3, now() + make_interval(hours => $4))
      ON CONFLICT (caller, key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, result = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
        WHERE k.expires_at <= now()`, [r.caller, r.key, r.requestHash, ttlHours])
    if (rowCount === 1) return { claimed: true }
    const { rows } = await tx.query<{ requestHash: string, result: T }>('idempotency_find',
      'SELECT request_hash AS "requestHash", result FROM idempotency_keys WHERE caller = $1 AND key = $2', [r.caller, r.key])
    return { claimed: false, ...rows[0] }
  }

  return {
    /**
     * Runs write once per (caller, key) in one transaction with the key and its result.
     * Returns the write's result, or, for a key already used, what it holds (the caller checks
     * requestHash). A failed write rolls back the claim too: the key can be used again.
     */
    async once<T> (r: IdempotentRequest, write: (tx: Queryable) => Promise<T>): Promise<{ replay: boolean, requestHash: string, result: T }> {
      return db.transaction(async (tx) => {
        const c = await claim<T>(tx, r)
        if (!c.claimed) return { replay: true, requestHash: c.requestHash, result: c.result }
        const result = await write(tx)
        await tx.query('idempotency_store', 'UPDATE idempotency_keys SET result = $3 WHERE caller = $1 AND key = $2',
          [r.caller, r.key, JSON.stringify(result)])
        return { replay: false, requestHash: r.requestHash, result }
      }, { timeoutMs: r.timeoutMs })
    },
    /** Deletes expired keys (IDEMPOTENCY_TTL_HOURS); returns how many. */
    async cleanup (): Promise<number> {
      const { rowCount } = await db.query('idempotency_cleanup', 'DELETE FROM idempotency_keys WHERE expires_at <= now()')
      return rowCount ?? 0
    }
  }
}

export type IdempotencyRepository = ReturnType<typeof idempotencyRepository>
