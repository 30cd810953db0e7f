import { afterAll, beforeAll, expect, it } from 'vitest'
import type { App } from '../src/app.js'
import { buildTestApp, createTestDatabase, type TestDatabase } from './helpers/app.js'

let db: TestDatabase
let app: App

beforeAll(async () => {
  db = await createTestDatabase()
  app = await buildTestApp(db.url)
})
afterAll(async () => {
  await app?.close()
  await db?.drop()
})

it('answers /health without checking dependencies', async () => {
  const res = await app.inject('/health')
  expect(res.statusCode).toBe(200)
  expect(res.json()).toEqual({ status: 'ok' })
})

it('answers /ready with each check', async () => {
  const res = await app.inject('/ready')
  expect(res.statusCode).toBe(200)
  expect(res.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'disabled' } })
})

it('turns /ready 503 while draining, /health stays 200', async () => {
  app.lifecycle.draining = true
  try {
    const res = await app.inject('/ready')
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({ status: 'unavailable', checks: { database: 'ok', redis: 'disabled', server: 'draining' } })
    expect((await app.inject('/health')).statusCode).toBe(200)
  } finally {
    app.lifecycle.draining = false
  }
})

it('echoes a valid x-request-id and replaces an invalid one', async () => {
  const kept = await app.inject({ url: '/health', headers: { 'x-request-id': 'lb-1234.abc:def_-' } })
  expect(kept.headers['x-request-id']).toBe('lb-1234.abc:def_-')
  const replaced = await app.inject({ url: '/health', headers: { 'x-request-id': 'bad id\u0001<script>' } })
  expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
})
