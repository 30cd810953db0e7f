// Which real services this run has. PostgreSQL is always there: TEST_DATABASE_URL's server, or
// else the embedded one test/global-setup.ts starts. Tests that need Redis call needs('redis'):
// without it the suite skips them with the reason, and with REQUIRE_SERVICES=1 (CI) the missing
// service fails the run.
import { describe, inject } from 'vitest'

/** the PostgreSQL server of this run (a superuser's URL; each test file works in its own database) */
export const TEST_DATABASE_URL = inject('databaseUrl')
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL
export const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === '1'

const available = { redis: Boolean(TEST_REDIS_URL) }
const variables = { redis: 'TEST_REDIS_URL' }

const reason = (service: keyof typeof available) => `needs a real Redis; set ${variables[service]}`

/**
 * true when the service is there; false (skip) or throws (REQUIRE_SERVICES=1) when it is not.
 * A skip says why on stderr, which vitest prints under the test file's name.
 */
function needs (service: keyof typeof available): boolean {
  if (available[service]) return true
  if (REQUIRE_SERVICES) throw new Error(`REQUIRE_SERVICES=1 but ${variables[service]} is not set`)
  console.warn(`[skipped] ${reason(service)}`)
  return false
}

/** describe() that runs only with the service, and otherwise says why it skipped. */
export function describeWith (service: keyof typeof available, name: string, fn: () => void) {
  const ok = needs(service)
  const title = ok ? name : `${name} [skipped: ${reason(service)}]`
  describe.skipIf(!ok)(title, fn)
}

/** deletes the keys a test wrote under its own REDIS_KEY_PREFIX on the shared Redis (never others') */
export async function deleteRedisKeys (prefix: string) {
  const { Redis } = await import('ioredis')
  const raw = new Redis(TEST_REDIS_URL!)
  try {
    const keys = await raw.keys(`${prefix}*`)
    if (keys.length) await raw.del(...keys)
  } finally {
    raw.disconnect()
  }
}
