// READ_ONLY=true: every mutation fails fast with SERVICE_READ_ONLY and writes nothing; queries keep
// working. The same app without the switch is the control.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { buildTestApp, createTestDatabase, errorsOf, gql, token, type TestDatabase } from '../helpers/app.js'

let db: TestDatabase
let readOnly: App
let writable: App
const admin = token('1', ['admin'])
const countUsers = async (app: App) => (await gql(app, '{ users(limit: 100) { id } }')).body.data.users.length as number

beforeAll(async () => {
  db = await createTestDatabase()
  readOnly = await buildTestApp(db.url, { READ_ONLY: 'true' })
  writable = await buildTestApp(db.url)
})
afterAll(async () => {
  await readOnly?.close()
  await writable?.close()
  await db?.drop()
})

describe('READ_ONLY=true', () => {
  it('answers queries', async () => {
    const res = await gql(readOnly, '{ user(id: "1") { id name } post(id: "1") { id author { id } } }')
    expect(res.statusCode).toBe(200)
    expect(res.body).toEqual({ data: { user: { id: '1', name: 'Ada Lovelace' }, post: { id: '1', author: { id: '1' } } } })
  })

  it('refuses every mutation with SERVICE_READ_ONLY and writes nothing', async () => {
    const before = await countUsers(readOnly)
    const mutations = [
      'mutation { createUser(input: { name: "Grace", email: "grace-ro@example.com" }) { id } }',
      'mutation { updateUser(id: "1", input: { name: "Changed" }) { id } }',
      'mutation { deleteUser(id: "2") }',
      'mutation { createPost(input: { title: "t", body: "b" }) { id } }'
    ]
    for (const query of mutations) {
      // nothing ran (no data): a 4xx under application/graphql-response+json, 200 under application/json
      for (const [accept, status] of [[undefined, 400], ['application/json', 200]] as const) {
        const res = await gql(readOnly, query, { token: admin, ...(accept && { headers: { accept } }) })
        expect(res.statusCode).toBe(status)
        expect(res.body).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'SERVICE_READ_ONLY' } }] })
      }
    }
    expect(await countUsers(readOnly)).toBe(before)
    expect((await gql(readOnly, '{ user(id: "1") { name } }')).body).toEqual({ data: { user: { name: 'Ada Lovelace' } } })
  })

  it('fails fast: before authorization, for anonymous callers too', async () => {
    const res = await gql(readOnly, 'mutation { createUser(input: { name: "x", email: "x@example.com" }) { id } }')
    expect(errorsOf(res.body)).toEqual([{ code: 'SERVICE_READ_ONLY', path: undefined }])
  })

  it('judges the operation that runs: operationName picks the query or the mutation of one document', async () => {
    const doc = 'query Read { user(id: "2") { id } } mutation Write { deleteUser(id: "2") }'
    const read = await gql(readOnly, doc, { token: admin, operationName: 'Read' })
    expect(read.body).toEqual({ data: { user: { id: '2' } } })
    const write = await gql(readOnly, doc, { token: admin, operationName: 'Write' })
    expect(errorsOf(write.body)).toEqual([{ code: 'SERVICE_READ_ONLY', path: undefined }])
  })

  it('counts the refusals in graphql_errors_total', async () => {
    const metrics = await readOnly.inject({ url: '/metrics' })
    expect(metrics.body).toMatch(/^graphql_errors_total\{code="SERVICE_READ_ONLY"\} [1-9]\d*$/m)
  })
})

it('without the switch the same mutation writes (control)', async () => {
  const res = await gql(writable, 'mutation { updateUser(id: "3", input: { name: "Changed" }) { id name } }', { token: admin })
  expect(res.body).toEqual({ data: { updateUser: { id: '3', name: 'Changed' } } })
})
