// Business metrics: users_created_total and posts_created_total count committed creations only
// (not a replayed Idempotency-Key, not a refused or failed write); active_callers counts distinct
// authenticated callers in the window and forgets them after it.
import { expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { buildTestApp, gql, token, useTestApp } from '../helpers/app.js'
import { waitUntil } from '../helpers/faults.js'
import { parseMetrics, valueOf } from './prom-text.js'

const t = useTestApp()
const admin = token('1', ['admin'])

async function scrape (target: App = t.app) {
  const families = parseMetrics((await target.inject({ url: '/metrics' })).body)
  return { users: valueOf(families, 'users_created_total'), posts: valueOf(families, 'posts_created_total'), active: valueOf(families, 'active_callers') }
}


it('counts created users and posts once they are written, and nothing else', async () => {
  expect(await scrape()).toEqual({ users: 0, posts: 0, active: 0 })
  const create = 'mutation ($email: String!) { createUser(input: { name: "Grace", email: $email }) { id } }'
  const first = await gql(t.app, create, { token: admin, variables: { email: 'grace@example.com' }, headers: { 'idempotency-key': 'k1' } })
  expect(first.body.data.createUser.id).toMatch(/^\d+$/)
  // a retry with the same key returns the first result and writes nothing
  const retry = await gql(t.app, create, { token: admin, variables: { email: 'grace@example.com' }, headers: { 'idempotency-key': 'k1' } })
  expect(retry.headers['idempotent-replayed']).toBe('true')
  // refused: the address is taken; forbidden: not an admin
  await gql(t.app, create, { token: admin, variables: { email: 'GRACE@example.com' } })
  await gql(t.app, create, { token: token('2'), variables: { email: 'other@example.com' } })
  await gql(t.app, 'mutation { createPost(input: { title: "t", body: "b" }) { id } }', { token: token('2') })
  await gql(t.app, 'mutation { createPost(input: { title: "", body: "b" }) { id } }', { token: token('2') })
  expect(await scrape()).toMatchObject({ users: 1, posts: 1 })
})

it('counts each authenticated caller once in the window, anonymous requests not at all', async () => {
  for (const caller of [token('3'), token('3'), token('4', ['admin']), undefined]) await gql(t.app, '{ me { id } }', { token: caller })
  // callers 1 and 2 from the test above, 3 and 4 here
  expect((await scrape()).active).toBe(4)
})

it('forgets a caller ACTIVE_CALLERS_WINDOW_SECONDS after its last request', async () => {
  const short = await buildTestApp(t.db.url, { ACTIVE_CALLERS_WINDOW_SECONDS: '2' })
  try {
    // seen (a busy machine may take longer than the window between request and scrape: try again)
    await waitUntil(async () => {
      await gql(short, '{ me { id } }', { token: token('5') })
      return (await scrape(short)).active === 1
    }, 20_000, 0)
    // then gone, without another request
    await waitUntil(async () => (await scrape(short)).active === 0, 20_000, 200)
  } finally {
    await short.close()
  }
})
