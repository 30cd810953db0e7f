// The default of `npm install && npm start`: no DATABASE_URL, so PGlite under EMBEDDED_DATABASE_DIR,
// migrated and seeded on start; a restart keeps the data.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { gql, token } from '../helpers/app.js'

const dir = mkdtempSync(join(tmpdir(), 'bastion-embedded-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const config = () => loadConfig({
  NODE_ENV: 'development', LOG_LEVEL: 'silent', EMBEDDED_DATABASE_DIR: join(dir, 'pglite'),
  JWT_SECRET: 'test-secret-test-secret-test-secret-42'
})

it('starts on an embedded database with demo data, and keeps what was written across a restart', { timeout: 120_000 }, async () => {
  const first = await buildApp(config())
  try {
    // SPEC: /ready may answer 503 just after the embedded database started (its start-up blocks the
    // event loop, which load shedding notices for a moment), then 200
    let ready = await first.inject('/ready')
    for (const end = Date.now() + 15_000; ready.statusCode !== 200 && Date.now() < end; ready = await first.inject('/ready')) {
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'disabled' } })
    const res = await gql(first, '{ users(limit: 10) { id name } }')
    expect(res.body.data.users).toHaveLength(10)
    const created = await gql(first, 'mutation { createUser(input: { name: "Kept", email: "kept@example.com" }) { id } }',
      { token: signed() })
    expect(created.body.errors).toBeUndefined()
  } finally {
    await first.close()
  }
  const second = await buildApp(config())
  try {
    const res = await gql(second, '{ users(limit: 1, offset: 300) { name } }')
    expect(res.body).toEqual({ data: { users: [{ name: 'Kept' }] } })
  } finally {
    await second.close()
  }
})

function signed () {
  return token('1', ['admin'])
}
