// DATABASE_REPLICA_URLS and friends: parsed, checked at start-up, and never echoed (they hold passwords).
import { expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'

const base = { NODE_ENV: 'test', DATABASE_URL: 'postgres://app:pw@primary:5432/bastion' }

function problems (env: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...env })
    return []
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
}

it('reads a comma-separated list of replicas, empty meaning none', () => {
  const config = loadConfig({ ...base, DATABASE_REPLICA_URLS: ' postgres://app:pw@r1:5432/bastion , postgresql://app:pw@r2/bastion,', REPLICA_MAX_LAG_MS: '250' })
  expect(config.DATABASE_REPLICA_URLS).toEqual(['postgres://app:pw@r1:5432/bastion', 'postgresql://app:pw@r2/bastion'])
  expect({ pool: config.DATABASE_REPLICA_POOL_MAX, lag: config.REPLICA_MAX_LAG_MS }).toEqual({ pool: 10, lag: 250 })
  expect(loadConfig(base).DATABASE_REPLICA_URLS).toEqual([])
})

it('refuses an entry that is not a PostgreSQL URL, without repeating it (it may hold a password)', () => {
  const found = problems({ DATABASE_REPLICA_URLS: 'postgres://app:pw@r1/bastion,mysql://app:hunter2secret@r2/db' })
  expect(found).toHaveLength(1)
  expect(found[0]).toMatch(/^DATABASE_REPLICA_URLS: /)
  expect(found[0]).not.toContain('hunter2secret')
})

it('refuses replicas without a primary, and pool sizes or lags out of range', () => {
  expect(problems({ DATABASE_URL: '', DATABASE_REPLICA_URLS: 'postgres://r1/bastion' }).map((p) => p.split(':')[0])).toEqual(['DATABASE_REPLICA_URLS'])
  expect(problems({ DATABASE_REPLICA_POOL_MAX: '0' }).map((p) => p.split(':')[0])).toEqual(['DATABASE_REPLICA_POOL_MAX'])
  expect(problems({ REPLICA_MAX_LAG_MS: '0' }).map((p) => p.split(':')[0])).toEqual(['REPLICA_MAX_LAG_MS'])
})
