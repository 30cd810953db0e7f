// Deadlines: a statement held up by a lock is cancelled and the request ends with TIMEOUT at the
// field's path; a transaction's statement_timeout is what is left of the deadline; an exhausted
// pool fails after DATABASE_CONNECT_TIMEOUT_MS with SERVICE_UNAVAILABLE instead of waiting forever.
import { describe, expect, it } from 'vitest'
import { databaseFailure } from '../../src/db/classify-errors.js'
import { buildTestApp, errorsOf, gql, useTestApp, useTestSql } from '../helpers/app.js'
import { report } from '../helpers/faults.js'

describe('deadlines', () => {
  const t = useTestApp({ CACHE_TTL_SECONDS: '0', QUERY_TIMEOUT_MS: '500', DATABASE_POOL_MIN: '0', DATABASE_POOL_MAX: '3' })
  const locker = useTestSql(t)

  /** holds an exclusive lock on the tables while fn runs, so statements on them wait */
  async function locked<T> (tables: string, fn: () => Promise<T>): Promise<T> {
    await locker.sql.query(`BEGIN; LOCK TABLE ${tables} IN ACCESS EXCLUSIVE MODE`)
    try { return await fn() } finally { await locker.sql.query('ROLLBACK') }
  }

  it('ends a query held up past QUERY_TIMEOUT_MS with TIMEOUT at its path, keeping the rest', async () => {
    const started = performance.now()
    const res = await locked('posts', () => gql(t.app, '{ post(id: "1") { id title } user(id: "2") { id name } }'))
    const ms = Math.round(performance.now() - started)
    expect(res.statusCode).toBe(200)
    expect(res.body.data).toEqual({ post: null, user: { id: '2', name: 'Alan Lovelace' } })
    expect(errorsOf(res.body)).toEqual([{ code: 'TIMEOUT', path: ['post'] }])
    expect(ms).toBeGreaterThanOrEqual(450)
    expect(ms).toBeLessThan(5000)
    report('statement held by a lock', { deadlineMs: 500, answeredAfterMs: ms })
  })

  it('bounds a batched loader by the same deadline', async () => {
    const res = await locked('posts', () => gql(t.app, '{ users(limit: 2) { id posts(limit: 1) { id } } }'))
    expect(res.body.data).toBeNull()
    // the first error nulls the non-null list, which ends its execution: one error
    expect(errorsOf(res.body)).toEqual([{ code: 'TIMEOUT', path: ['users', 0, 'posts'] }])
  })

  it('has PostgreSQL cancel the statement (57014, classified TIMEOUT) and sets a transaction\'s timeout to what is left', async () => {
    const err = await t.app.db.query('sleep', 'SELECT pg_sleep(3)').catch((e: Error) => e)
    expect((err as { code?: string }).code).toBe('57014')
    expect(databaseFailure(err)).toBe('TIMEOUT')
    const started = performance.now()
    const txErr = await t.app.db.transaction((tx) => tx.query('sleep', 'SELECT pg_sleep(3)'), { timeoutMs: 100 }).catch((e: Error) => e)
    expect((txErr as { code?: string }).code).toBe('57014')
    expect(performance.now() - started).toBeLessThan(450)
    // SET LOCAL ended with the transaction: every pooled session keeps the configured timeout
    const settings = await Promise.all([1, 2, 3].map(() => t.app.db.query<{ statement_timeout: string }>('show', 'SHOW statement_timeout')))
    expect(settings.map((r) => r.rows[0].statement_timeout)).toEqual(['500ms', '500ms', '500ms'])
  })

  it('fails a request that finds the pool exhausted after DATABASE_CONNECT_TIMEOUT_MS, then serves again', async () => {
    const small = await buildTestApp(t.db.url, { CACHE_TTL_SECONDS: '0', QUERY_TIMEOUT_MS: '10000', DATABASE_POOL_MIN: '0', DATABASE_POOL_MAX: '2', DATABASE_CONNECT_TIMEOUT_MS: '300' })
    const { pool } = small.db
    await locker.sql.query('BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE')
    try {
      const holders = [gql(small, '{ users(limit: 1) { id } }'), gql(small, '{ users(limit: 1) { id } }')]
      // both connections are taken, their statements waiting on the lock
      while (pool.totalCount < 2 || pool.idleCount > 0) await new Promise((resolve) => setTimeout(resolve, 10))
      const started = performance.now()
      const starved = await gql(small, '{ users(limit: 1) { id } }')
      const ms = Math.round(performance.now() - started)
      await locker.sql.query('ROLLBACK')
      const [first, second] = await Promise.all(holders)
      expect(starved.body.data).toBeNull()
      expect(errorsOf(starved.body)).toEqual([{ code: 'SERVICE_UNAVAILABLE', path: ['users'] }])
      expect(ms).toBeGreaterThanOrEqual(250)
      expect(ms).toBeLessThan(3000)
      expect(first.body).toEqual({ data: { users: [{ id: '1' }] } })
      expect(second.body).toEqual({ data: { users: [{ id: '1' }] } })
      expect({ waiting: pool.waitingCount, idle: pool.idleCount }).toEqual({ waiting: 0, idle: pool.totalCount })
      expect((await gql(small, '{ users(limit: 1) { id } }')).body).toEqual({ data: { users: [{ id: '1' }] } })
      report('pool exhausted', { poolMax: 2, connectTimeoutMs: 300, failedAfterMs: ms })
    } finally {
      await locker.sql.query('ROLLBACK')
      await small.close()
    }
  })
})
