// Every statement a pool's clients send, one entry per round trip (a simple query may hold several
// statements): for tests that count the round trips of a transaction.
import type pg from 'pg'

export function recordRoundTrips (pool: pg.Pool): { sent: string[], stop: () => void } {
  const sent: string[] = []
  const wrapped = new WeakSet<pg.PoolClient>()
  let recording = true
  const onAcquire = (client: pg.PoolClient) => {
    if (wrapped.has(client)) return
    wrapped.add(client)
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      if (recording) sent.push(typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text)
      return query(...args)
    }
  }
  pool.on('acquire', onAcquire)
  return { sent, stop: () => { recording = false; pool.off('acquire', onAcquire) } }
}
