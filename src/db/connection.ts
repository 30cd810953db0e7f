// A connection string plus DATABASE_SSL_CA_FILE as one pg client configuration. pg lets the
// options parsed from the URL (sslmode=...) replace a separately given `ssl` object, so a CA passed
// next to `?sslmode=verify-full` would be silently dropped: parse the URL once and merge here.
// https://node-postgres.com/features/ssl
import { readFileSync } from 'node:fs'
import type pg from 'pg'
import { parse, toClientConfig } from 'pg-connection-string'

/**
 * With a CA file, TLS is on and the server certificate must chain to that CA and match the host
 * (verify-full), unless the URL says sslmode=disable.
 */
export function connectionConfig (url: string, caFile?: string): string | pg.ClientConfig {
  if (!caFile) return url
  const parsed = parse(url)
  const config = toClientConfig(parsed) as pg.ClientConfig
  if (config.ssl === false) return config
  const ca = readFileSync(caFile, 'utf8')
  return { ...config, ssl: { ...(typeof config.ssl === 'object' ? config.ssl : {}), ca, rejectUnauthorized: true } }
}

/** The same URL naming another database on the same server. */
export function withDatabase (url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${encodeURIComponent(name)}`
  return u.toString()
}
