// Runtime switches across two instances sharing the test Redis: a change made through the
// command's code path on one side is in force on the other within a second; fields are refused
// at their path whatever alias, fragment or persisted form reached them; operations and
// mutations fail whole before any resolver runs.
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { sha256 } from '../../src/graphql/persisted-queries.js'
import { createRedis } from '../../src/plugins/redis.js'
import { runSwitchCommand } from '../../src/switches/command.js'
import { buildTestApp, createTestDatabase, errorsOf, gql, token, type TestDatabase } from '../helpers/app.js'
import { waitUntil } from '../helpers/faults.js'
import { deleteRedisKeys, describeWith, TEST_REDIS_URL } from '../helpers/services.js'

const prefix = `test-sw-${randomBytes(4).toString('hex')}:`
let db: TestDatabase
let a: App
let b: App
let redis: Redis
const out: string[] = []
const admin = token('1', ['admin'])

async function command (...argv: string[]) {
  return runSwitchCommand(argv, { redis, prefix, log: pino({ level: 'silent' }), user: 'tester', out: (l) => out.push(l) })
}

describeWith('redis', 'runtime switches on two instances', () => {
  beforeAll(async () => {
    db = await createTestDatabase()
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, PERSISTED_QUERIES: 'automatic' }
    a = await buildTestApp(db.url, env)
    b = await buildTestApp(db.url, env)
    redis = createRedis({ url: TEST_REDIS_URL!, commandTimeoutMs: 2000, keyPrefix: prefix })
    await redis.connect()
  })
  afterAll(async () => {
    redis?.disconnect()
    await a?.close()
    await b?.close()
    await deleteRedisKeys(prefix)
    await db?.drop()
  })

  const refusedOn = (app: App, query: string) => async () => errorsOf((await gql(app, query)).body)[0]?.code === 'FEATURE_DISABLED'

  it('a field disabled on one instance is refused by the other within 1 s, at its path, with the rest of the data', async () => {
    const query = '{ user(id: "1") { id name } post(id: "1") { id } }'
    expect((await gql(b, query)).body.errors).toBeUndefined()
    expect(await command('disable', 'Query.post', '--reason', 'posts are slow')).toBe(0)
    await waitUntil(refusedOn(b, query), 1000)
    const res = await gql(b, query)
    expect(res.statusCode).toBe(200)
    expect(res.body.data).toEqual({ user: { id: '1', name: 'Ada Lovelace' }, post: null })
    expect(res.body.errors).toEqual([expect.objectContaining({ path: ['post'], extensions: { code: 'FEATURE_DISABLED', reason: 'posts are slow' } })])
    // the metric says what is off, on both instances
    for (const app of [a, b]) {
      const text = await app.metrics.registry.getSingleMetricAsString('feature_switch_disabled')
      expect(text).toContain('feature_switch_disabled{target="Query.post"} 1')
    }
    expect(await command('enable', 'Query.post')).toBe(0)
    await waitUntil(async () => (await gql(b, query)).body.errors === undefined, 1000)
    expect((await b.metrics.registry.getSingleMetricAsString('feature_switch_disabled'))).not.toContain('Query.post"')
  })

  it('a disabled field is refused inside aliases and fragments, every place it is reached', async () => {
    expect(await command('disable', 'User.name', '--reason', 'name lookups off')).toBe(0)
    const query = `
      query Aliased { first: user(id: "1") { ...F } second: user(id: "2") { who: name id } }
      fragment F on User { id ... on User { label: name } }`
    await waitUntil(refusedOn(a, query), 1000)
    const res = await gql(a, query)
    // name is non-null: each refusal nulls its parent user, and the other root field still answers
    expect(res.body.data).toEqual({ first: null, second: null })
    expect(errorsOf(res.body).sort((x, y) => String(x.path).localeCompare(String(y.path)))).toEqual([
      { code: 'FEATURE_DISABLED', path: ['first', 'label'] },
      { code: 'FEATURE_DISABLED', path: ['second', 'who'] }
    ])
    // other fields of the type are untouched
    expect((await gql(a, '{ user(id: "1") { id } }')).body).toEqual({ data: { user: { id: '1' } } })
    expect(await command('enable', 'User.name')).toBe(0)
    await waitUntil(async () => (await gql(a, query)).body.errors === undefined, 1000)
  })

  it('a disabled operation fails whole before any resolver, also as a persisted query', async () => {
    const QUERY = 'query Feed { posts(limit: 2) { id } }'
    const hash = sha256(QUERY)
    const apq = (withQuery: boolean) => b.inject({
      method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' },
      payload: { ...(withQuery && { query: QUERY }), extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }
    })
    expect((await apq(true)).json()).toEqual({ data: { posts: [{ id: '1' }, { id: '2' }] } })
    expect(await command('disable', 'Feed', '--reason', 'feed incident')).toBe(0)
    await waitUntil(refusedOn(b, QUERY), 1000)
    for (const res of [await apq(false), await apq(true)]) {
      expect(res.json()).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'FEATURE_DISABLED', reason: 'feed incident' } }] })
    }
    // the operation that executes is what counts: another operation of the same document still runs
    const both = 'query Feed { posts(limit: 1) { id } } query Other { user(id: "1") { id } }'
    expect((await gql(b, both, { operationName: 'Other' })).body).toEqual({ data: { user: { id: '1' } } })
    expect(errorsOf((await gql(b, both, { operationName: 'Feed' })).body)).toEqual([{ code: 'FEATURE_DISABLED', path: undefined }])
    expect(await command('enable', 'Feed')).toBe(0)
  })

  it('Mutation refuses every mutation before it runs (nothing is written); queries keep working', async () => {
    expect(await command('disable', 'Mutation', '--reason', 'write path under repair', '--by', 'oncall')).toBe(0)
    const create = 'mutation { createUser(input: { name: "Switched", email: "switched@example.com" }) { id } }'
    await waitUntil(async () => errorsOf((await gql(a, create, { token: admin })).body)[0]?.code === 'FEATURE_DISABLED', 1000)
    const count = async () => (await gql(a, '{ users(limit: 100) { email } }')).body.data.users.filter((u: { email: string | null }) => u.email === 'switched@example.com').length as number
    expect(await count()).toBe(0)
    expect((await gql(b, create)).body).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'FEATURE_DISABLED', reason: 'write path under repair' } }] })
    out.length = 0
    expect(await command('list')).toBe(0)
    expect(out.join('\n')).toMatch(/^Mutation\tdisabled by oncall at .*: write path under repair$/)
    expect(await command('enable', 'Mutation')).toBe(0)
    await waitUntil(async () => errorsOf((await gql(a, create, { token: admin })).body)[0]?.code !== 'FEATURE_DISABLED', 1000)
  })

  it('the command refuses unknown fields, a missing reason and too many switches', async () => {
    expect(await command('disable', 'User.password', '--reason', 'x')).toBe(2)
    expect(await command('disable', 'Nope.id', '--reason', 'x')).toBe(2)
    expect(await command('disable', 'Query.users')).toBe(2)
    expect(await command('disable', 'bad name!', '--reason', 'x')).toBe(2)
    expect(await command('disable', 'Query.users', '--reason', 'x'.repeat(201))).toBe(2)
    expect(await command('enable', 'Query.users')).toBe(1)
    expect(await redis.hlen('switches')).toBe(0)
    for (let i = 0; i < 100; i++) expect(await command('disable', `Op${i}`, '--reason', 'bulk')).toBe(0)
    expect(await command('disable', 'Op100', '--reason', 'one too many')).toBe(2)
    expect(await redis.hlen('switches')).toBe(100)
    for (let i = 0; i < 100; i++) expect(await command('enable', `Op${i}`)).toBe(0)
  })
})
