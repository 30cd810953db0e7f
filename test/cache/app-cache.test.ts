// The resolver cache inside the app, against the real PostgreSQL and Redis: no leaks between
// callers, invalidation across two instances, stampede, Redis outage, metrics.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import type { App } from '../../src/app.js'
import { buildTestApp, createTestDatabase, errorsOf, gql, token, type TestDatabase } from '../helpers/app.js'
import { startRedis, waitUntil, type PrivateRedis } from '../helpers/faults.js'
import { deleteRedisKeys, describeWith, TEST_REDIS_URL } from '../helpers/services.js'

describeWith('redis', 'resolver cache', () => {
  const prefix = `test-appcache-${randomBytes(4).toString('hex')}:`
  let db: TestDatabase
  let a: App
  let b: App
  let listener: Redis
  const messages: string[][] = []
  const statements: string[] = []
  const admin = token('1', ['admin'])

  beforeAll(async () => {
    db = await createTestDatabase()
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, CACHE_TTL_SECONDS: '60', REDIS_COMMAND_TIMEOUT_MS: '1000' }
    a = await buildTestApp(db.url, env)
    b = await buildTestApp(db.url, env)
    for (const app of [a, b]) app.db.onQuery((e) => statements.push(e.name))
    // the test hears the invalidation channel as the instances do
    listener = new Redis(TEST_REDIS_URL!)
    listener.on('message', (_c: string, m: string) => messages.push(JSON.parse(m) as string[]))
    await listener.subscribe(`${prefix}cache:invalidate`)
  })
  afterAll(async () => {
    listener?.disconnect()
    await a?.close()
    await b?.close()
    await deleteRedisKeys(prefix)
    await db?.drop()
  })

  it('never serves User.email to a caller who may not see it, whoever filled the cache', async () => {
    const q = '{ users(limit: 2, offset: 20) { id email } }'
    const first = await gql(a, q, { token: admin })
    expect(first.body).toEqual({ data: { users: [{ id: '21', email: 'user21@example.com' }, { id: '22', email: 'user22@example.com' }] } })
    const other = await gql(a, q, { token: token('22') })
    expect(other.body.data).toEqual({ users: [{ id: '21', email: null }, { id: '22', email: 'user22@example.com' }] })
    expect(errorsOf(other.body)).toEqual([{ code: 'FORBIDDEN', path: ['users', 0, 'email'] }])
    const anonymous = await gql(b, q)
    expect(anonymous.body.data).toEqual({ users: [{ id: '21', email: null }, { id: '22', email: null }] })
  })

  it('answers a repeated read without SQL', async () => {
    await gql(a, '{ user(id: "7") { name posts(limit: 3) { title author { name } } } }')
    statements.length = 0
    const again = await gql(a, '{ user(id: "7") { name posts(limit: 3) { title author { name } } } }')
    expect(again.body.errors).toBeUndefined()
    expect(statements).toEqual([])
  })

  it('a create drops only the end of its list (orderedList): the first page is served without SQL, the last page shows the new post', async () => {
    const first = '{ posts(limit: 10) { id } }'
    const firstPage = (await gql(a, first)).body
    const created = await gql(a, 'mutation { createPost(input: { title: "Appended", body: "x" }) { id } }', { token: token('5') })
    const id: string = created.body.data.createPost.id
    statements.length = 0
    expect((await gql(a, first)).body).toEqual(firstPage)
    expect(statements).not.toContain('posts_list')
    expect((await gql(a, `{ posts(limit: 10, offset: ${Number(id) - 1}) { id title } }`)).body).toEqual({ data: { posts: [{ id, title: 'Appended' }] } })
    expect(statements).toContain('posts_list')
  })

  it('makes a mutation on one instance visible on the other: at once through Redis, in memory once the message has had 100 ms', async () => {
    const q = '{ user(id: "5") { name } users(limit: 5) { name } }'
    await gql(a, q)
    await gql(b, q) // both instances now hold the entries in memory
    messages.length = 0
    const res = await gql(a, 'mutation { updateUser(id: "5", input: { name: "Renamed" }) { name } }', { token: admin })
    expect(res.body).toEqual({ data: { updateUser: { name: 'Renamed' } } })
    // a read that reaches Redis (a third instance, empty memory) is fresh straight away
    const c = await buildTestApp(db.url, { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, REDIS_COMMAND_TIMEOUT_MS: '1000' })
    try {
      expect((await gql(c, q)).body.data.user).toEqual({ name: 'Renamed' })
    } finally {
      await c.close()
    }
    await waitUntil(() => messages.some((m) => m.includes('user:5')), 5000, 5)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const onB = await gql(b, q)
    expect(onB.body.data.user).toEqual({ name: 'Renamed' })
    expect(onB.body.data.users[4]).toEqual({ name: 'Renamed' })
  })

  it('drops a deleted user and their posts everywhere', async () => {
    const q = '{ user(id: "9") { name } post(id: "81") { title author { id } } }'
    expect((await gql(b, q)).body.data).toEqual({ user: { name: 'Ken Lovelace' }, post: { title: expect.any(String), author: { id: '9' } } })
    messages.length = 0
    expect((await gql(a, 'mutation { deleteUser(id: "9") }', { token: admin })).body).toEqual({ data: { deleteUser: true } })
    await waitUntil(() => messages.length > 0, 5000, 5)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect((await gql(b, q)).body).toEqual({ data: { user: null, post: null } })
  })

  it('sends 100 concurrent identical requests on a cold key to PostgreSQL once', async () => {
    statements.length = 0
    const q = '{ users(limit: 7, offset: 123) { id name } }'
    const results = await Promise.all(Array.from({ length: 100 }, () => gql(a, q)))
    expect(results[0].body.data.users).toHaveLength(7)
    for (const r of results) expect(r.body).toEqual(results[0].body)
    expect(statements.filter((s) => s === 'users_list')).toEqual(['users_list'])
  })

  it('gives entries written together different lifetimes in Redis (TTL jitter)', async () => {
    await gql(a, '{ posts(limit: 20, offset: 200) { id author { id } } }')
    const raw = new Redis(TEST_REDIS_URL!)
    try {
      await waitUntil(async () => (await raw.keys(`${prefix}c:user:*`)).length >= 2, 2000)
      const keys = await raw.keys(`${prefix}c:user:*`)
      const ttls = new Set(await Promise.all(keys.map((k) => raw.pttl(k))))
      expect(ttls.size).toBeGreaterThan(1)
      for (const ttl of ttls) expect(ttl).toBeGreaterThan(0)
    } finally {
      raw.disconnect()
    }
  })

  it('counts hits and misses in cache_requests_total', async () => {
    const text = (await a.inject('/metrics')).body
    expect(text).toMatch(/cache_requests_total\{cache="users",result="hit"\} [1-9]/)
    expect(text).toMatch(/cache_requests_total\{cache="users",result="miss"\} [1-9]/)
    expect(text).toMatch(/cache_requests_total\{cache="user",result="(hit|miss)"\} [1-9]/)
  })
})

describeWith('redis', 'resolver cache during a Redis outage', () => {
  let db: TestDatabase
  let redis: PrivateRedis
  let app: App

  beforeAll(async () => {
    db = await createTestDatabase()
    redis = await startRedis()
    app = await buildTestApp(db.url, { REDIS_URL: redis.url, CACHE_TTL_SECONDS: '60' })
  })
  afterAll(async () => {
    await app?.close()
    await redis?.close()
    await db?.drop()
  })

  it('bypasses the cache while Redis is down (no request fails), and uses it again once it is back', async () => {
    const q = '{ users(limit: 3) { name } }'
    expect((await gql(app, q)).body.errors).toBeUndefined()
    await redis.stop()
    // once the instance has noticed (the connection closed)
    await waitUntil(async () => (await app.inject('/ready')).json().checks.redis === 'degraded', 10_000, 20)
    const sql: string[] = []
    app.db.onQuery((e) => sql.push(e.name))
    for (let i = 0; i < 20; i++) {
      const res = await gql(app, q)
      expect(res.statusCode).toBe(200)
      expect(res.body).toEqual({ data: { users: [{ name: 'Ada Lovelace' }, { name: 'Alan Lovelace' }, { name: 'Barbara Lovelace' }] } })
    }
    // memory is not trusted without the invalidation channel: every request read PostgreSQL
    expect(sql.filter((s) => s === 'users_list').length).toBe(20)
    await redis.start()
    await waitUntil(async () => (await app.inject('/ready')).json().checks.redis === 'ok', 10_000, 50)
    await gql(app, q)
    sql.length = 0
    await waitUntil(async () => { await gql(app, q); return sql.length === 0 || (sql.length = 0, false) }, 5000, 50)
  })
})
