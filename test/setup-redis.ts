// After each test file: the keys its apps wrote on the shared Redis go (each app has a prefix of its
// own, test/helpers/app.ts), whichever of its tests failed. A setup file's afterAll runs after the
// file's own, which close the apps.
import { afterAll } from 'vitest'
import { redisPrefixes } from './helpers/redis-prefixes.js'
import { deleteRedisKeys, TEST_REDIS_URL } from './helpers/services.js'

afterAll(async () => {
  if (!TEST_REDIS_URL) return
  for (const prefix of redisPrefixes) await deleteRedisKeys(prefix)
  redisPrefixes.clear()
})
