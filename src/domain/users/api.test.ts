// The users domain (and the posts it relates to): queries, mutations, input rules and authorization.
import { describe, expect, it } from 'vitest'
import { errorsOf, gql, token, useTestApp } from '../../../test/helpers/app.js'

const test = useTestApp()

const admin = token('1', ['admin'])
const ada = token('1')
const alan = token('2')

describe('queries', () => {
  it('pages users by id', async () => {
    const res = await gql(test.app, '{ users(limit: 3, offset: 1) { id name } }')
    expect(res.statusCode).toBe(200)
    expect(res.body).toEqual({ data: { users: [{ id: '2', name: 'Alan Lovelace' }, { id: '3', name: 'Barbara Lovelace' }, { id: '4', name: 'Claude Lovelace' }] } })
  })

  it('uses the default limit of 10', async () => {
    const res = await gql(test.app, '{ users { id } posts { id } }')
    expect(res.body.data.users.map((u: { id: string }) => u.id)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'])
    expect(res.body.data.posts).toHaveLength(10)
  })

  it('finds a user and a post by id, with their relations', async () => {
    const res = await gql(test.app, '{ user(id: "2") { id name createdAt posts(limit: 2) { id title } } post(id: "11") { id title author { id name } } }')
    expect(res.body).toEqual({
      data: {
        user: {
          id: '2', name: 'Alan Lovelace', createdAt: '2025-01-01T01:00:00.000Z',
          posts: [{ id: '20', title: 'Notes on caching #10' }, { id: '19', title: 'Notes on connection pools #9' }]
        },
        post: { id: '11', title: 'Notes on indexes #1', author: { id: '2', name: 'Alan Lovelace' } }
      }
    })
  })

  it('answers null for unknown ids', async () => {
    const res = await gql(test.app, '{ user(id: "999999") { id } post(id: "999999") { id } }')
    expect(res.body).toEqual({ data: { user: null, post: null } })
  })

  it('returns the caller as me, or null when anonymous', async () => {
    expect((await gql(test.app, '{ me { id email } }', { token: alan })).body).toEqual({ data: { me: { id: '2', email: 'user2@example.com' } } })
    expect((await gql(test.app, '{ me { id } }')).body).toEqual({ data: { me: null } })
  })
})

describe('input rules', () => {
  it.each([
    ['limit above 100', '{ users(limit: 101) { id } }', 'users', null],
    ['limit of 0', '{ posts(limit: 0) { id } }', 'posts', null],
    ['negative offset', '{ users(offset: -1) { id } }', 'users', null],
    ['a malformed id', '{ user(id: "1 OR 1=1") { id } }', 'user', { user: null }]
  ])('refuses %s with BAD_USER_INPUT at its path', async (_, query, field, data) => {
    const res = await gql(test.app, query)
    expect(res.statusCode).toBe(200)
    expect(res.body.data).toEqual(data)
    expect(errorsOf(res.body)).toEqual([{ code: 'BAD_USER_INPUT', path: [field] }])
  })

  it('refuses a nested limit out of range at the nested path, keeping the rest', async () => {
    const res = await gql(test.app, '{ user(id: "1") { id posts(limit: 1000) { id } } }')
    expect(res.body.data).toEqual({ user: null })
    expect(errorsOf(res.body)).toEqual([{ code: 'BAD_USER_INPUT', path: ['user', 'posts'] }])
  })

  it.each([
    ['an invalid email', { name: 'Eve', email: 'not-an-email' }, 'email'],
    ['an empty name', { name: '  ', email: 'eve@example.com' }, 'name'],
    ['a name over 100 characters', { name: 'x'.repeat(101), email: 'eve@example.com' }, 'name'],
    ['a NUL byte', { name: 'Eve\u0000', email: 'eve@example.com' }, 'name']
  ])('refuses createUser with %s and writes nothing', async (_, input, field) => {
    const before = await gql(test.app, '{ users(limit: 100, offset: 250) { id } }')
    const res = await gql(test.app, 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }', { token: admin, variables: { input } })
    expect(errorsOf(res.body)).toEqual([{ code: 'BAD_USER_INPUT', path: ['createUser'] }])
    expect(res.body.errors![0].extensions.field).toBe(field)
    expect((await gql(test.app, '{ users(limit: 100, offset: 250) { id } }')).body).toEqual(before.body)
  })

  it('refuses a duplicate email (any case) with BAD_USER_INPUT and writes nothing', async () => {
    const res = await gql(test.app, 'mutation { createUser(input: { name: "Copy", email: "USER3@example.com" }) { id } }', { token: admin })
    expect(errorsOf(res.body)).toEqual([{ code: 'BAD_USER_INPUT', path: ['createUser'] }])
    expect(res.body.errors![0].message).toMatch(/email/)
    // the same field a broken email rule names (input rules above)
    expect(res.body.errors![0].extensions.field).toBe('email')
    const count = await test.app.db.query<{ n: string }>('t', "SELECT count(*) AS n FROM users WHERE lower(email) = 'user3@example.com'")
    expect(count.rows[0].n).toBe('1')
  })

  it('refuses a variable of the wrong type before execution', async () => {
    const res = await gql(test.app, 'query ($n: Int) { users(limit: $n) { id } }', { variables: { n: 'ten' } })
    expect(res.statusCode).toBe(400)
    expect(errorsOf(res.body)).toEqual([{ code: 'BAD_USER_INPUT', path: undefined }])
  })
})

describe('mutations and authorization', () => {
  it('lets an admin create a user, then that user update themselves and post', async () => {
    const created = await gql(test.app, 'mutation { createUser(input: { name: "Grace", email: "grace@example.com" }) { id name email } }', { token: admin })
    const id = created.body.data.createUser.id
    expect(created.body).toEqual({ data: { createUser: { id, name: 'Grace', email: 'grace@example.com' } } })
    const self = token(id)
    const updated = await gql(test.app, `mutation { updateUser(id: "${id}", input: { name: "Grace H." }) { id name email } }`, { token: self })
    expect(updated.body).toEqual({ data: { updateUser: { id, name: 'Grace H.', email: 'grace@example.com' } } })
    const post = await gql(test.app, 'mutation { createPost(input: { title: "Hello", body: "First" }) { title author { id } } }', { token: self })
    expect(post.body).toEqual({ data: { createPost: { title: 'Hello', author: { id } } } })
    const deleted = await gql(test.app, `mutation { deleteUser(id: "${id}") }`, { token: self })
    expect(deleted.body).toEqual({ data: { deleteUser: true } })
    expect((await gql(test.app, `{ user(id: "${id}") { id } }`)).body).toEqual({ data: { user: null } })
  })

  it('refuses mutations from anonymous callers with UNAUTHENTICATED', async () => {
    const res = await gql(test.app, 'mutation { createPost(input: { title: "x", body: "y" }) { id } }')
    expect(res.statusCode).toBe(200)
    expect(res.body.data).toBeNull()
    expect(errorsOf(res.body)).toEqual([{ code: 'UNAUTHENTICATED', path: ['createPost'] }])
  })

  it('refuses createUser to non-admins and changes to other users with FORBIDDEN', async () => {
    const create = await gql(test.app, 'mutation { createUser(input: { name: "N", email: "n@example.com" }) { id } }', { token: ada })
    expect(errorsOf(create.body)).toEqual([{ code: 'FORBIDDEN', path: ['createUser'] }])
    const update = await gql(test.app, 'mutation { updateUser(id: "3", input: { name: "Hacked" }) { id } }', { token: alan })
    expect(errorsOf(update.body)).toEqual([{ code: 'FORBIDDEN', path: ['updateUser'] }])
    const del = await gql(test.app, 'mutation { deleteUser(id: "3") }', { token: alan })
    expect(errorsOf(del.body)).toEqual([{ code: 'FORBIDDEN', path: ['deleteUser'] }])
    expect((await gql(test.app, '{ user(id: "3") { name } }')).body).toEqual({ data: { user: { name: 'Barbara Lovelace' } } })
  })

  it('answers NOT_FOUND when a mutation names an unknown id', async () => {
    const update = await gql(test.app, 'mutation { updateUser(id: "999999", input: { name: "x" }) { id } }', { token: admin })
    expect(errorsOf(update.body)).toEqual([{ code: 'NOT_FOUND', path: ['updateUser'] }])
    const del = await gql(test.app, 'mutation { deleteUser(id: "999998") }', { token: admin })
    expect(errorsOf(del.body)).toEqual([{ code: 'NOT_FOUND', path: ['deleteUser'] }])
  })

  it('shows User.email only to that user or an admin; others get null and FORBIDDEN at its path', async () => {
    const q = '{ users(limit: 2) { id email } }'
    expect((await gql(test.app, q, { token: admin })).body).toEqual({ data: { users: [{ id: '1', email: 'user1@example.com' }, { id: '2', email: 'user2@example.com' }] } })
    const asAlan = await gql(test.app, q, { token: alan })
    expect(asAlan.body.data).toEqual({ users: [{ id: '1', email: null }, { id: '2', email: 'user2@example.com' }] })
    expect(errorsOf(asAlan.body)).toEqual([{ code: 'FORBIDDEN', path: ['users', 0, 'email'] }])
    const anonymous = await gql(test.app, q)
    expect(anonymous.body.data).toEqual({ users: [{ id: '1', email: null }, { id: '2', email: null }] })
    expect(errorsOf(anonymous.body)).toEqual([{ code: 'FORBIDDEN', path: ['users', 0, 'email'] }, { code: 'FORBIDDEN', path: ['users', 1, 'email'] }])
  })

  it('answers 401 UNAUTHENTICATED for an expired or forged token, never anonymously', async () => {
    for (const bad of [token('1', ['admin'], -60), `${admin.slice(0, -4)}AAAA`, 'not-a-jwt']) {
      const res = await gql(test.app, '{ me { id } }', { token: bad })
      expect(res.statusCode).toBe(401)
      expect(errorsOf(res.body)).toEqual([{ code: 'UNAUTHENTICATED', path: undefined }])
    }
  })
})
