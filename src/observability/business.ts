// Business metrics: what the service is for, next to how it
// runs. Each domain's counters of created rows (its `counters`, src/domain/index.ts), and a gauge of
// distinct authenticated callers seen in the last ACTIVE_CALLERS_WINDOW_SECONDS. Registered on the
// app's own registry (src/plugins/metrics.ts).
import { LRUCache } from 'lru-cache'
import type { MercuriusContext } from 'mercurius'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Context } from '../graphql/context.js'

// distinct callers remembered at most (about 100 bytes each); the gauge cannot report more
const ACTIVE_CALLERS_MAX = 100_000

export function createBusinessMetrics (registry: Registry, windowSeconds: number, counters: Record<string, { name: string, help: string }>) {
  const registers = [registry]
  // sub -> seen; an entry expires windowSeconds after the caller's latest request
  const seen = new LRUCache<string, true>({ max: ACTIVE_CALLERS_MAX, ttl: windowSeconds * 1000 })
  new Gauge({
    name: 'active_callers',
    help: `Distinct authenticated callers (JWT sub) this instance served in the last ${windowSeconds} s`,
    registers,
    // counted when scraped: nothing but a Map update per request
    collect () {
      seen.purgeStale()
      this.set(seen.size)
    }
  })
  return {
    /** by the key a domain declares them with */
    created: Object.fromEntries(Object.entries(counters).map(([key, c]) => [key, new Counter({ ...c, registers })])) as Record<string, Counter>,
    /** an authenticated request of `sub` (sync, per request) */
    seen (sub: string) { seen.set(sub, true) }
  }
}

export type BusinessMetrics = ReturnType<typeof createBusinessMetrics>

/**
 * Runs a creating write and counts what it wrote once `run` has resolved, that is after the
 * commit: `written` marks each row as it is written, so a replayed Idempotency-Key (no write) or
 * a rolled-back attempt (run rejects) counts nothing.
 */
export async function countCreated<T> (context: Context, counter: string, run: (written: <R>(row: R) => R) => Promise<T>): Promise<T> {
  let rows = 0
  const result = await run((row) => { rows++; return row })
  if (rows > 0) (context as MercuriusContext).app.business.created[counter].inc(rows)
  return result
}
