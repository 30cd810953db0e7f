// PERSISTED_QUERIES=automatic (Apollo's APQ, shared through Redis) and =only (trusted documents).
import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { sha256 } from '../../src/graphql/persisted-queries.js'
import { buildTestApp, createTestDatabase, errorsOf, MODERN_ACCEPT, type TestDatabase } from '../helpers/app.js'
import { deleteRedisKeys, describeWith, TEST_REDIS_URL } from '../helpers/services.js'

const QUERY = '{ users(limit: 2) { name } }'
const DATA = { users: [{ name: 'Ada Lovelace' }, { name: 'Alan Lovelace' }] }

// what Apollo Client sends; `accept: 'application/json'` for a client written before the specification
async function send (app: App, body: Record<string, unknown>, accept = MODERN_ACCEPT) {
  const res = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', accept }, payload: JSON.stringify(body) })
  return { status: res.statusCode, body: res.json() }
}
const apq = (hash: string, query?: string) => ({ ...(query && { query }), extensions: { persistedQuery: { version: 1, sha256Hash: hash } } })

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

/** two instances sharing Redis under `prefix`, with APQ on: built before the block's tests, closed after */
function twoInstances (prefix: string, env: Record<string, string> = {}) {
  const apps = {} as { a: App, b: App }
  beforeAll(async () => {
    const all = { PERSISTED_QUERIES: 'automatic', REDIS_URL: TEST_REDIS_URL!, REDIS_KEY_PREFIX: prefix, REDIS_COMMAND_TIMEOUT_MS: '1000', ...env }
    apps.a = await buildTestApp(db.url, all)
    apps.b = await buildTestApp(db.url, all)
  })
  afterAll(async () => {
    await apps.a?.close()
    await apps.b?.close()
    await deleteRedisKeys(prefix)
  })
  return apps
}

describeWith('redis', 'automatic persisted queries shared through Redis', () => {
  const prefix = `test-apq-${randomBytes(4).toString('hex')}:`
  const apps = twoInstances(prefix)

  it('follows the APQ protocol: not found, register with the query, then the hash alone works on every instance', async () => {
    const hash = sha256(QUERY)
    // nothing ran: 404 under application/graphql-response+json (a 4xx that Apollo Client answers by
    // sending the query, where a 400 would turn persisted queries off), 200 under application/json,
    // as Apollo Server answers it
    for (const [accept, status] of [[MODERN_ACCEPT, 404], ['application/json', 200]] as const) {
      const miss = await send(apps.a, apq(hash), accept)
      expect(miss.status).toBe(status)
      expect(miss.body.errors[0]).toMatchObject({ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } })
    }
    expect(await send(apps.a, apq(hash, QUERY))).toEqual({ status: 200, body: { data: DATA } })
    expect(await send(apps.b, apq(hash))).toEqual({ status: 200, body: { data: DATA } })
    // null parameters beside the hash mean the same as absent ones
    expect(await send(apps.b, { query: null, variables: null, operationName: null, ...apq(hash) })).toEqual({ status: 200, body: { data: DATA } })
  })

  it('stores nothing when the hash is not the query\'s SHA-256', async () => {
    const wrong = sha256('something else')
    const res = await send(apps.a, apq(wrong, QUERY))
    expect(res.status).toBe(400)
    expect(errorsOf(res.body)).toEqual([{ code: 'BAD_USER_INPUT', path: undefined }])
    expect(errorsOf((await send(apps.b, apq(wrong))).body)).toEqual([{ code: 'PERSISTED_QUERY_NOT_FOUND', path: undefined }])
  })

  it('stores nothing for a document that does not validate', async () => {
    const bad = '{ nope }'
    expect(errorsOf((await send(apps.a, apq(sha256(bad), bad))).body)).toEqual([{ code: 'GRAPHQL_VALIDATION_FAILED', path: undefined }])
    expect(errorsOf((await send(apps.b, apq(sha256(bad)))).body)).toEqual([{ code: 'PERSISTED_QUERY_NOT_FOUND', path: undefined }])
  })

  it('still serves ordinary queries', async () => {
    expect(await send(apps.a, { query: QUERY })).toEqual({ status: 200, body: { data: DATA } })
  })
})

describeWith('redis', 'automatic persisted queries: the daily registration quota (PERSISTED_QUERIES_MAX_PER_DAY)', () => {
  const prefix = `test-apq-quota-${randomBytes(4).toString('hex')}:`
  const apps = twoInstances(prefix, { PERSISTED_QUERIES_MAX_PER_DAY: '2' })

  it('keeps the day\'s first registrations across instances; past the quota the query runs but is not kept', async () => {
    const docs = ['# one\n{ __typename }', '# two\n{ __typename }', '# three\n{ __typename }']
    const ok = { status: 200, body: { data: { __typename: 'Query' } } }
    // two instances share the quota: one registration on each, then a third
    expect(await send(apps.a, apq(sha256(docs[0]), docs[0]))).toEqual(ok)
    expect(await send(apps.b, apq(sha256(docs[1]), docs[1]))).toEqual(ok)
    expect(await send(apps.a, apq(sha256(docs[2]), docs[2]))).toEqual(ok)
    expect(await send(apps.b, apq(sha256(docs[0])))).toEqual(ok)
    expect(await send(apps.a, apq(sha256(docs[1])))).toEqual(ok)
    expect(errorsOf((await send(apps.b, apq(sha256(docs[2])))).body)).toEqual([{ code: 'PERSISTED_QUERY_NOT_FOUND', path: undefined }])
    // sending a kept document again refreshes it without counting
    expect(await send(apps.b, apq(sha256(docs[0]), docs[0]))).toEqual(ok)
    expect(errorsOf((await send(apps.a, apq(sha256(docs[2])))).body)).toEqual([{ code: 'PERSISTED_QUERY_NOT_FOUND', path: undefined }])
  })
})

describe('automatic persisted queries without Redis', () => {
  it('keeps registered hashes in the process', async () => {
    const app = await buildTestApp(db.url, { PERSISTED_QUERIES: 'automatic' })
    try {
      const hash = sha256(QUERY)
      expect(errorsOf((await send(app, apq(hash))).body)).toEqual([{ code: 'PERSISTED_QUERY_NOT_FOUND', path: undefined }])
      await send(app, apq(hash, QUERY))
      expect(await send(app, apq(hash))).toEqual({ status: 200, body: { data: DATA } })
    } finally {
      await app.close()
    }
  })
})

describe('trusted documents only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-pq-'))
  const file = join(dir, 'manifest.json')
  writeFileSync(file, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: sha256(QUERY), name: 'Two', type: 'query', body: QUERY }] }))
  let app: App
  beforeAll(async () => { app = await buildTestApp(db.url, { PERSISTED_QUERIES: 'only', PERSISTED_QUERIES_FILE: file }) })
  afterAll(async () => { await app?.close() })

  it('runs a registered operation by hash or by its exact text', async () => {
    expect(await send(app, apq(sha256(QUERY)))).toEqual({ status: 200, body: { data: DATA } })
    expect(await send(app, { query: QUERY })).toEqual({ status: 200, body: { data: DATA } })
  })

  it('refuses any other document with PERSISTED_QUERY_NOT_ALLOWED and an unknown hash with PERSISTED_QUERY_NOT_FOUND', async () => {
    const other = await send(app, { query: '{ users(limit: 3) { name } }' })
    expect(other.status).toBe(400)
    expect(errorsOf(other.body)).toEqual([{ code: 'PERSISTED_QUERY_NOT_ALLOWED', path: undefined }])
    const registering = await send(app, apq(sha256('{ me { id } }'), '{ me { id } }'))
    expect(errorsOf(registering.body)).toEqual([{ code: 'PERSISTED_QUERY_NOT_FOUND', path: undefined }])
    expect(errorsOf((await send(app, apq(sha256('{ me { id } }')))).body)).toEqual([{ code: 'PERSISTED_QUERY_NOT_FOUND', path: undefined }])
  })

  it('refuses to start when an id is not its document\'s SHA-256', async () => {
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({ [sha256('{ me { id } }')]: QUERY }))
    await expect(buildTestApp(db.url, { PERSISTED_QUERIES: 'only', PERSISTED_QUERIES_FILE: bad })).rejects.toThrow(/SHA-256/)
  })
})
