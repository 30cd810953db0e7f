// Relations are batched: one SQL statement per level of the query, never one per row.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { buildTestApp, createTestDatabase, gql, type TestDatabase } from '../helpers/app.js'

let db: TestDatabase
let app: App
const statements: string[] = []

beforeAll(async () => {
  db = await createTestDatabase()
  app = await buildTestApp(db.url, { CACHE_TTL_SECONDS: '0', MAX_QUERY_COMPLEXITY: '100000' })
  app.db.onQuery((e) => statements.push(e.name))
})
afterAll(async () => {
  await app?.close()
  await db?.drop()
})

it('runs { users(limit: 50) { posts { author { id } } } } in one statement per level', async () => {
  statements.length = 0
  const res = await gql(app, '{ users(limit: 50) { id posts { id author { id } } } }')
  expect(res.body.errors).toBeUndefined()
  expect(res.body.data.users).toHaveLength(50)
  for (const user of res.body.data.users) {
    expect(user.posts).toHaveLength(10)
    for (const post of user.posts) expect(post.author.id).toBe(user.id)
  }
  expect(statements).toEqual(['users_list', 'posts_by_authors', 'users_by_ids'])
})

it('batches posts { author } across the whole list', async () => {
  statements.length = 0
  const res = await gql(app, '{ posts(limit: 100) { id author { name } } }')
  expect(res.body.data.posts).toHaveLength(100)
  expect(statements).toEqual(['posts_list', 'users_by_ids'])
})
