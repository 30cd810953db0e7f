// Switches live in Redis, not in the servers: they survive a Redis restart (a private
// redis-server with an append-only file; never the shared one) and a server restart, and an
// instance re-reads them when its connection comes back.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { createRedis } from '../../src/plugins/redis.js'
import { runSwitchCommand } from '../../src/switches/command.js'
import { buildTestApp, createTestDatabase, errorsOf, gql, type TestDatabase } from '../helpers/app.js'
import { startRedis, waitUntil, type PrivateRedis } from '../helpers/faults.js'

let db: TestDatabase
let redisServer: PrivateRedis
let dir: string
const apps: App[] = []
const prefix = 'restart-test:'
const QUERY = '{ user(id: "1") { id } post(id: "1") { id } }'
const refused = async (app: App) => errorsOf((await gql(app, QUERY)).body).some((e) => e.code === 'FEATURE_DISABLED')

async function command (...argv: string[]) {
  const redis = createRedis({ url: redisServer.url, commandTimeoutMs: 2000, keyPrefix: prefix })
  await redis.connect()
  try {
    return await runSwitchCommand(argv, { redis, prefix, log: pino({ level: 'silent' }), user: 'tester', out: () => {} })
  } finally {
    redis.disconnect()
  }
}

async function app () {
  const built = await buildTestApp(db.url, { REDIS_URL: redisServer.url, REDIS_KEY_PREFIX: prefix })
  apps.push(built)
  return built
}

describe('switches across restarts', () => {
  beforeAll(async () => {
    db = await createTestDatabase()
    dir = mkdtempSync(join(tmpdir(), 'bastion-switch-redis-'))
    redisServer = await startRedis({ persistDir: dir })
  })
  afterAll(async () => {
    for (const a of apps) await a.close()
    await redisServer?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
    await db?.drop()
  })

  it('a switch outlives a Redis restart and a server restart; enabling it after the restart reaches the running instance', async () => {
    const first = await app()
    expect(await refused(first)).toBe(false)
    expect(await command('disable', 'Query.post', '--reason', 'incident 42')).toBe(0)
    await waitUntil(() => refused(first), 1000)

    await redisServer.stop()
    await redisServer.start()
    // a fresh instance after the Redis restart reads it from Redis
    const second = await app()
    expect(errorsOf((await gql(second, QUERY)).body)).toEqual([{ code: 'FEATURE_DISABLED', path: ['post'] }])
    // the running instance kept it through the outage, and hears changes again once reconnected
    expect(await refused(first)).toBe(true)
    expect(await command('enable', 'Query.post')).toBe(0)
    await waitUntil(async () => !(await refused(first)) && !(await refused(second)), 10_000)
  })
})
