// The posts domain end to end: create (with an Idempotency-Key), read by id, the author's list
// through the cache (stale after the write), input rules and authorization. It needs only a
// seeded account (id 5) and no rows of its own type, so a copy of this folder can run it as is.
import { expect, it } from 'vitest'
import { errorsOf, gql, token, useTestApp } from '../../../test/helpers/app.js'

const test = useTestApp()
const author = token('5')

const create = 'mutation ($title: String!) { createPost(input: { title: $title, body: "text" }) { id title author { id } } }'
const newest = '{ user(id: "5") { posts(limit: 1) { id title } } }'

it('creates a post once per Idempotency-Key, reads it by id and in its author\'s list, through the cache', async () => {
  const before = (await gql(test.app, newest)).body.data.user.posts
  expect((await gql(test.app, newest)).body.data.user.posts).toEqual(before)
  const headers = { 'idempotency-key': 'first-one' }
  const created = await gql(test.app, create, { token: author, variables: { title: 'Hello' }, headers })
  const id = created.body.data.createPost.id
  expect(created.body).toEqual({ data: { createPost: { id, title: 'Hello', author: { id: '5' } } } })
  const again = await gql(test.app, create, { token: author, variables: { title: 'Hello' }, headers })
  expect(again.body).toEqual(created.body)
  expect(again.headers['idempotent-replayed']).toBe('true')
  expect((await gql(test.app, `{ post(id: "${id}") { id title body } }`)).body).toEqual({ data: { post: { id, title: 'Hello', body: 'text' } } })
  // the list read before the write was cached: the write made it stale
  expect((await gql(test.app, newest)).body).toEqual({ data: { user: { posts: [{ id, title: 'Hello' }] } } })
  expect((await gql(test.app, `{ posts(limit: 1, offset: ${Number(id) - 1}) { id } }`)).body).toEqual({ data: { posts: [{ id }] } })
})

it.each([
  ['an empty title', '  '],
  ['a title over 200 characters', 'x'.repeat(201)]
])('refuses %s with BAD_USER_INPUT naming the field', async (_, title) => {
  const res = await gql(test.app, create, { token: author, variables: { title } })
  expect(errorsOf(res.body)).toEqual([{ code: 'BAD_USER_INPUT', path: ['createPost'] }])
  expect(res.body.errors![0].extensions.field).toBe('title')
})

it('refuses anonymous writes with UNAUTHENTICATED and answers null for an unknown id', async () => {
  expect(errorsOf((await gql(test.app, create, { variables: { title: 'x' } })).body)).toEqual([{ code: 'UNAUTHENTICATED', path: ['createPost'] }])
  expect((await gql(test.app, '{ post(id: "999999") { id } }')).body).toEqual({ data: { post: null } })
})
