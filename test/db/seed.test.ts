import { afterAll, beforeAll, expect, it } from 'vitest'
import { createDatabase, type Database } from '../../src/db/database.js'
import { seed } from '../../src/db/seed.js'
import { createTestDatabase, type TestDatabase } from '../helpers/app.js'

let tdb: TestDatabase
let db: Database

beforeAll(async () => {
  tdb = await createTestDatabase()
  db = createDatabase({ connection: tdb.url, min: 0, max: 2, connectTimeoutMs: 5000, idleTimeoutMs: 1000, statementTimeoutMs: 0, preparedStatements: false, onIdleError: () => {} })
})
afterAll(async () => {
  await db?.close()
  await tdb?.drop()
})

async function snapshot () {
  const { rows } = await db.query('t', `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM posts) AS posts,
    (SELECT md5(string_agg(id::text || name || email, ',' ORDER BY id)) FROM users) AS users_sum,
    (SELECT md5(string_agg(id::text || author_id::text || title, ',' ORDER BY id)) FROM posts) AS posts_sum`)
  return rows[0]
}

it('holds a few hundred users and a few thousand posts, and a second run changes nothing', async () => {
  const before = await snapshot()
  expect(before).toMatchObject({ users: '300', posts: '3000' })
  expect(await seed(db)).toEqual({ users: 0, posts: 0 })
  expect(await snapshot()).toEqual(before)
})
