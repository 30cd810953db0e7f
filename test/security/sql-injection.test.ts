// SQL injection: every string argument goes to PostgreSQL as a parameter. Classic payloads are
// stored and read back literally (or refused by the input rules), and every table is intact.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { buildTestApp, createTestDatabase, errorsOf, gql, token, type TestDatabase } from '../helpers/app.js'

const PAYLOADS = [
  "' OR 1=1 --",
  "'; DROP TABLE users; --",
  "\"; DROP TABLE posts; --",
  "1'; UPDATE users SET email = 'x' WHERE '1'='1",
  "admin'/*",
  '\\\'; SELECT pg_sleep(10); --',
  '$1 $$ E\'\\x27\' %s %_ \\N',
  'ʼ OR ʼ1ʼ=ʼ1 ’; DROP TABLE users; -- “quoted” ＇',
  "Robert'); DELETE FROM posts;--"
]

let db: TestDatabase
let app: App
const admin = token('1', ['admin'])
beforeAll(async () => {
  db = await createTestDatabase()
  // room for 1 MB strings, so that they reach the resolvers
  app = await buildTestApp(db.url, { BODY_LIMIT_BYTES: String(4 * 1024 * 1024) })
})
afterAll(async () => {
  await app?.close()
  await db?.drop()
})

async function tables () {
  const r = await app.db.query<{ name: string, rows: string }>('t', `
    SELECT c.relname AS name, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text AS rows
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1`)
  return Object.fromEntries(r.rows.map((t) => [t.name, Number(t.rows)]))
}

it.each(PAYLOADS.map((p, i) => [p, i] as const))('stores and matches %j literally', async (payload, i) => {
  const before = await tables()
  const email = `o'neil.${i}+drop--@example.com`
  const created = await gql(app, 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id name email } }', { token: admin, variables: { input: { name: payload, email } } })
  expect(created.body.errors).toBeUndefined()
  const id = created.body.data.createUser.id as string
  expect(created.body.data.createUser).toEqual({ id, name: payload, email })
  const self = token(id)
  const post = await gql(app, 'mutation ($input: CreatePostInput!) { createPost(input: $input) { title body } }', { token: self, variables: { input: { title: payload, body: payload } } })
  expect(post.body).toEqual({ data: { createPost: { title: payload, body: payload } } })
  const renamed = await gql(app, 'mutation ($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { name } }', { token: self, variables: { id, input: { name: `${payload}!` } } })
  expect(renamed.body).toEqual({ data: { updateUser: { name: `${payload}!` } } })
  // read back from the database, literally
  const back = await gql(app, 'query ($id: ID!) { user(id: $id) { name email posts(limit: 1) { title body } } }', { token: self, variables: { id } })
  expect(back.body).toEqual({ data: { user: { name: `${payload}!`, email, posts: [{ title: payload, body: payload }] } } })
  // the same email in another case is the same email, matched as a value
  const duplicate = await gql(app, 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }', { token: admin, variables: { input: { name: 'x', email: email.toUpperCase() } } })
  expect(errorsOf(duplicate.body)).toEqual([{ code: 'BAD_USER_INPUT', path: ['createUser'] }])
  // as an id it is refused before any SQL
  for (const q of ['query ($id: ID!) { user(id: $id) { id } }', 'query ($id: ID!) { post(id: $id) { id } }', 'mutation ($id: ID!) { deleteUser(id: $id) }']) {
    const res = await gql(app, q, { token: admin, variables: { id: payload } })
    expect(errorsOf(res.body)).toEqual([{ code: 'BAD_USER_INPUT', path: [q.includes('user(') ? 'user' : q.includes('post(') ? 'post' : 'deleteUser'] }])
  }
  expect(await tables()).toEqual({ ...before, users: before.users + 1, posts: before.posts + 1 })
})

it.each([
  ['a NUL byte', 'abc\u0000def'],
  ['a 1 MB string', 'x'.repeat(1024 * 1024)]
])('refuses %s in every string input and writes nothing', async (_, value) => {
  const before = await tables()
  const create = await gql(app, 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }', { token: admin, variables: { input: { name: value, email: 'nul@example.com' } } })
  expect(errorsOf(create.body)).toEqual([{ code: 'BAD_USER_INPUT', path: ['createUser'] }])
  const post = await gql(app, 'mutation ($input: CreatePostInput!) { createPost(input: $input) { id } }', { token: token('2'), variables: { input: { title: 'ok', body: value } } })
  expect(errorsOf(post.body)).toEqual([{ code: 'BAD_USER_INPUT', path: ['createPost'] }])
  const update = await gql(app, 'mutation ($input: UpdateUserInput!) { updateUser(id: "2", input: $input) { id } }', { token: token('2'), variables: { input: { name: value } } })
  expect(errorsOf(update.body)).toEqual([{ code: 'BAD_USER_INPUT', path: ['updateUser'] }])
  expect(await tables()).toEqual(before)
  expect((await gql(app, '{ user(id: "2") { name } }')).body).toEqual({ data: { user: { name: 'Alan Lovelace' } } })
})
