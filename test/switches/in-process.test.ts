// Without Redis, switches live in the process (app.switches.replace), and READ_ONLY is the
// start-up default of the all-mutations switch, visible on the gauge.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { buildTestApp, createTestDatabase, errorsOf, gql, token, type TestDatabase } from '../helpers/app.js'

let db: TestDatabase
let app: App
let readOnly: App

beforeAll(async () => {
  db = await createTestDatabase()
  app = await buildTestApp(db.url)
  readOnly = await buildTestApp(db.url, { READ_ONLY: 'true' })
})
afterAll(async () => {
  await app?.close()
  await readOnly?.close()
  await db?.drop()
})

const sw = (target: string) => ({ target, reason: 'maintenance', by: 'test', at: new Date().toISOString() })
const gauge = async (a: App) => a.metrics.registry.getSingleMetricAsString('feature_switch_disabled')

it('applies and lifts switches in one process, restoring the original resolver', async () => {
  const query = '{ user(id: "1") { id name } me { id } }'
  const before = await gql(app, query, { token: token('1') })
  app.switches.replace([sw('User.name'), sw('Nothing')])
  const off = await gql(app, query, { token: token('1') })
  expect(off.body, JSON.stringify(off.body)).toMatchObject({ data: { user: null, me: { id: '1' } } })
  expect(off.body.data).toEqual({ user: null, me: { id: '1' } })
  expect(errorsOf(off.body)).toEqual([{ code: 'FEATURE_DISABLED', path: ['user', 'name'] }])
  expect(await gauge(app)).toContain('feature_switch_disabled{target="User.name"} 1')
  app.switches.replace([])
  expect((await gql(app, query, { token: token('1') })).body).toEqual(before.body)
  expect(before.body).toEqual({ data: { user: { id: '1', name: 'Ada Lovelace' }, me: { id: '1' } } })
  expect(await gauge(app)).not.toContain('target=')
})

it('READ_ONLY refuses mutations with SERVICE_READ_ONLY and shows as the Mutation switch', async () => {
  const res = await gql(readOnly, 'mutation { deleteUser(id: "2") }', { token: token('1', ['admin']) })
  expect(errorsOf(res.body)).toEqual([{ code: 'SERVICE_READ_ONLY', path: undefined }])
  expect(await gauge(readOnly)).toContain('feature_switch_disabled{target="Mutation"} 1')
})
