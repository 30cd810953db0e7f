import { expect, it } from 'vitest'
import { useTestApp } from './helpers/app.js'

const t = useTestApp()


it('answers /health without checking dependencies', async () => {
  const res = await t.app.inject('/health')
  expect(res.statusCode).toBe(200)
  expect(res.json()).toEqual({ status: 'ok' })
})

it('answers /ready with each check', async () => {
  const res = await t.app.inject('/ready')
  expect(res.statusCode).toBe(200)
  expect(res.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'disabled' } })
})

it('turns /ready 503 while draining, /health stays 200', async () => {
  t.app.lifecycle.draining = true
  try {
    const res = await t.app.inject('/ready')
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({ status: 'unavailable', checks: { database: 'ok', redis: 'disabled', server: 'draining' } })
    expect((await t.app.inject('/health')).statusCode).toBe(200)
  } finally {
    t.app.lifecycle.draining = false
  }
})

it('echoes a valid x-request-id and replaces an invalid one', async () => {
  const kept = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'lb-1234.abc:def_-' } })
  expect(kept.headers['x-request-id']).toBe('lb-1234.abc:def_-')
  const replaced = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'bad id\u0001<script>' } })
  expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
})
