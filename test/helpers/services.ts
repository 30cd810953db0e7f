// Which real services this run has. Tests that need one call needs(): without the service the
// suite skips them with the reason, and with REQUIRE_SERVICES=1 (CI) the missing service fails the run.
import { describe } from 'vitest'

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL
export const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === '1'

const available = {
  postgres: Boolean(TEST_DATABASE_URL),
  redis: Boolean(TEST_REDIS_URL)
}
const variables = { postgres: 'TEST_DATABASE_URL', redis: 'TEST_REDIS_URL' }

const reason = (service: keyof typeof available) =>
  `needs a real ${service === 'postgres' ? 'PostgreSQL server' : 'Redis'}; set ${variables[service]}`

/**
 * true when the service is there; false (skip) or throws (REQUIRE_SERVICES=1) when it is not.
 * A skip says why on stderr, which vitest prints under the test file's name.
 */
export function needs (service: keyof typeof available): boolean {
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
