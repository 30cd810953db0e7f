// Test apps whose log lines the test can read (security events, masked errors).
import { pino } from 'pino'
import type { App } from '../../src/app.js'
import { buildApp } from '../../src/server-options.js'
import { testConfig, useTestApp } from '../helpers/app.js'

export type LogLine = Record<string, unknown> & { level: number, msg: string }

export async function buildLoggedApp (databaseUrl: string, env: Record<string, string | undefined> = {}, logs: LogLine[] = []): Promise<{ app: App, logs: LogLine[] }> {
  const logger = pino({ level: 'info' }, { write: (line: string) => { logs.push(JSON.parse(line) as LogLine) } })
  const app = await buildApp(testConfig(databaseUrl, env), { logger })
  await app.ready()
  return { app, logs }
}

/** useTestApp with a logged app: `.logs` holds every line it has logged */
export function useLoggedApp (env: Record<string, string | undefined> = {}): ReturnType<typeof useTestApp> & { readonly logs: LogLine[] } {
  const logs: LogLine[] = []
  return Object.assign(useTestApp(env, async (url, e) => (await buildLoggedApp(url, e, logs)).app), { logs })
}

/** the security events logged so far: warn level, with an `event` field */
export function events (logs: LogLine[]) {
  return logs.filter((l) => l.level === 40 && typeof l.event === 'string')
}

/** a query whose deepest field is at `depth` (root field = 0): users { posts { author { ... { id } } } } */
export function withDepth (depth: number): string {
  let inner = 'id'
  for (let level = depth - 1; level >= 1; level--) inner = `${level % 2 === 1 ? 'posts(limit: 1)' : 'author'} { ${inner} }`
  return `{ users(limit: 1) { ${inner} } }`
}

/** the same depth reached through a chain of named fragments, one per level */
export function withDepthThroughFragments (depth: number, firstName = 'L1'): string {
  const fragments: string[] = []
  for (let level = 1; level < depth; level++) {
    const name = level === 1 ? firstName : `L${level}`
    const next = level + 1 < depth ? `...L${level + 1}` : 'id'
    const field = level % 2 === 1 ? 'posts(limit: 1)' : 'author'
    fragments.push(`fragment ${name} on ${level % 2 === 1 ? 'User' : 'Post'} { ${field} { ${next} } }`)
  }
  return `{ users(limit: 1) { ...${firstName} } } ${fragments.join(' ')}`
}

/** the same depth with every level inside an inline fragment */
export function withDepthThroughInlineFragments (depth: number): string {
  let inner = 'id'
  for (let level = depth - 1; level >= 1; level--) {
    const [field, type] = level % 2 === 1 ? ['posts(limit: 1)', 'Post'] : ['author', 'User']
    inner = `${field} { ... on ${type} { ${inner} } }`
  }
  return `{ users(limit: 1) { ... on User { ${inner} } } }`
}
