// Idempotency-Key on createUser and createPost: a retry returns the first result and writes
// nothing, another payload under the same key is refused, concurrent retries write once, keys are
// per caller, a failed attempt stores nothing, and expired keys are cleaned up.
import { describe, expect, it } from 'vitest'
import { errorsOf, gql, token, useTestApp, useTestSql } from '../helpers/app.js'
import { report } from '../helpers/faults.js'
import { recordRoundTrips } from '../helpers/round-trips.js'

const ada = token('1')
const alan = token('2')
const admin = token('1', ['admin'])

const t = useTestApp({ RATE_LIMIT_MAX: '0', RATE_LIMIT_POINTS: '0' })
const direct = useTestSql(t)

const CREATE_POST = 'mutation ($title: String!) { createPost(input: { title: $title, body: "b" }) { id title author { id } } }'
const CREATE_USER = 'mutation ($email: String!) { createUser(input: { name: "Grace", email: $email }) { id name email } }'
const count = async (table: string) => Number((await direct.sql.query(`SELECT count(*) FROM ${table}`)).rows[0].count)
const post = (key: string | undefined, title: string, tok = ada) =>
  gql(t.app, CREATE_POST, { token: tok, variables: { title }, headers: key === undefined ? {} : { 'idempotency-key': key } })

it('returns the first result on a retry and writes nothing', async () => {
  const before = await count('posts')
  const first = await post('key-1', 'once')
  expect(first.body.errors).toBeUndefined()
  const retry = await post('key-1', 'once')
  expect(retry.body).toEqual(first.body)
  expect(retry.headers['idempotent-replayed']).toBe('true')
  expect(first.headers['idempotent-replayed']).toBeUndefined()
  // the same payload written another way (an alias, inline arguments) is the same request
  const aliased = await gql(t.app, 'mutation { again: createPost(input: { body: "b", title: "once" }) { id } }', { token: ada, headers: { 'idempotency-key': 'key-1' } })
  expect(aliased.body).toEqual({ data: { again: { id: first.body.data.createPost.id } } })
  expect(await count('posts')).toBe(before + 1)
})

it('refuses the same key with a different payload, writing nothing', async () => {
  await post('key-2', 'first')
  const before = await count('posts')
  const other = await post('key-2', 'second')
  expect(other.statusCode).toBe(200)
  expect(other.body.data).toBeNull()
  expect(errorsOf(other.body)).toEqual([{ code: 'IDEMPOTENCY_KEY_CONFLICT', path: ['createPost'] }])
  // another operation under the key is another payload too
  const user = await gql(t.app, CREATE_USER, { token: admin, variables: { email: 'k2@example.com' }, headers: { 'idempotency-key': 'key-2' } })
  expect(errorsOf(user.body)).toEqual([{ code: 'IDEMPOTENCY_KEY_CONFLICT', path: ['createUser'] }])
  expect(await count('posts')).toBe(before)
})

it('scopes keys to the caller', async () => {
  const mine = await post('shared-key', 'same')
  const theirs = await post('shared-key', 'same', alan)
  expect(mine.body.data.createPost.author).toEqual({ id: '1' })
  expect(theirs.body.data.createPost.author).toEqual({ id: '2' })
  expect(theirs.body.data.createPost.id).not.toBe(mine.body.data.createPost.id)
})

// real concurrency: the embedded database serves every connection on one session
describe('concurrent retries', () => {
  it('writes once when retries with one key race each other', async () => {
    const before = await count('posts')
    const started = performance.now()
    const results = await Promise.all(Array.from({ length: 12 }, () => post('race-key', 'raced')))
    const ids = new Set(results.map((r) => r.body.data?.createPost?.id))
    expect(results.map((r) => errorsOf(r.body))).toEqual(results.map(() => []))
    expect(ids.size).toBe(1)
    expect(await count('posts')).toBe(before + 1)
    report('idempotency race', { concurrent: results.length, distinctResults: ids.size, rowsWritten: (await count('posts')) - before, ms: Math.round(performance.now() - started) })
  })
})

it('stores nothing for a failed attempt, so the key can be used again', async () => {
  const keysBefore = await count('idempotency_keys')
  // user1@example.com exists: the insert fails, the transaction (with the key) rolls back
  const failed = await gql(t.app, CREATE_USER, { token: admin, variables: { email: 'user1@example.com' }, headers: { 'idempotency-key': 'key-3' } })
  expect(errorsOf(failed.body)).toEqual([{ code: 'BAD_USER_INPUT', path: ['createUser'] }])
  expect(await count('idempotency_keys')).toBe(keysBefore)
  const fixed = await gql(t.app, CREATE_USER, { token: admin, variables: { email: 'grace@example.com' }, headers: { 'idempotency-key': 'key-3' } })
  expect(fixed.body.data.createUser).toEqual({ id: expect.any(String), name: 'Grace', email: 'grace@example.com' })
  const retry = await gql(t.app, CREATE_USER, { token: admin, variables: { email: 'grace@example.com' }, headers: { 'idempotency-key': 'key-3' } })
  expect(retry.body).toEqual(fixed.body)
  expect(await count('idempotency_keys')).toBe(keysBefore + 1)
})

it('refuses a malformed key before writing', async () => {
  const before = await count('posts')
  for (const key of ['', 'x'.repeat(256), 'caf\u00e9']) {
    const res = await gql(t.app, CREATE_POST, { token: ada, variables: { title: 't' }, headers: { 'idempotency-key': key } })
    expect(errorsOf(res.body)).toEqual([{ code: 'BAD_USER_INPUT', path: ['createPost'] }])
  }
  expect(await count('posts')).toBe(before)
})

it('writes again without a key', async () => {
  const a = await post(undefined, 'plain')
  const b = await post(undefined, 'plain')
  expect(a.body.data.createPost.id).not.toBe(b.body.data.createPost.id)
})

it('forgets keys after IDEMPOTENCY_TTL_HOURS: an expired key is free again and cleanup deletes it', async () => {
  const first = await post('old-key', 'before')
  await direct.sql.query("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'old-key'")
  const reused = await post('old-key', 'after')
  expect(reused.body.data.createPost.title).toBe('after')
  expect(reused.body.data.createPost.id).not.toBe(first.body.data.createPost.id)
  await direct.sql.query("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key IN ('key-1', 'key-2')")
  expect(await t.app.idempotency.cleanup()).toBe(2)
  expect((await direct.sql.query("SELECT key FROM idempotency_keys WHERE key IN ('key-1', 'key-2', 'old-key') ORDER BY key")).rows).toEqual([{ key: 'old-key' }])
  const ttl = (await direct.sql.query("SELECT round(extract(epoch FROM expires_at - created_at) / 3600) AS hours FROM idempotency_keys WHERE key = 'old-key'")).rows[0]
  expect(Number(ttl.hours)).toBe(24)
})

describe('round trips', () => {
  const recordStatements = () => recordRoundTrips(t.app.db.pool)

  it('a createPost with a key takes two: BEGIN with the claim and the insert, the result with COMMIT', async () => {
    const { sent, stop } = recordStatements()
    const first = await post('trips-1', 'two')
    stop()
    expect(first.body.errors).toBeUndefined()
    const writes = sent.filter((text) => !/^\s*SELECT/i.test(text))
    expect(writes.map((text) => text.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'BEGIN; SET LOCAL',
      'UPDATE idempotency_keys SET'
    ])
    // the claim before the insert: a live key aborts the transaction before the insert runs
    expect(writes[0]).toMatch(/; SELECT idempotency_claim\(.*\); PREPARE \w+ AS\s+INSERT INTO posts .*; EXECUTE \w+\(.*\); DEALLOCATE \w+$/s)
    expect(writes[1]).toMatch(/; COMMIT$/)
    // and a replay: the claim refuses (nothing inserted), ROLLBACK, then what the key holds
    const before = await count('posts')
    const again = recordStatements()
    const retry = await post('trips-1', 'two')
    again.stop()
    expect(retry.body).toEqual(first.body)
    expect(again.sent.map((text) => text.trim().split(/[\s;]+/)[0])).toEqual(['BEGIN', 'ROLLBACK', 'SELECT'])
    expect(await count('posts')).toBe(before)
  })

  it('inlines the key safely: quotes and backslashes are data (the caller is a numeric user id)', async () => {
    const key = 'it\'s\\a"key;--'
    const first = await post(key, 'quoted\' \\')
    expect(first.body.errors).toBeUndefined()
    const retry = await post(key, 'quoted\' \\')
    expect(retry.body).toEqual(first.body)
    expect(retry.headers['idempotent-replayed']).toBe('true')
    const { rows } = await direct.sql.query('SELECT caller, key, result->>\'title\' AS title FROM idempotency_keys WHERE key = $1', [key])
    expect(rows).toEqual([{ caller: '1', key, title: 'quoted\' \\' }])
  })
})
