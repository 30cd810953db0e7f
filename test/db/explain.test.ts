// Every repository statement, as the API really runs it, is EXPLAINed against the seeded database
// with sequential scans discouraged: a Seq Scan that remains means no index serves that path.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import type { QueryEvent } from '../../src/db/database.js'
import { ROOT } from '../../src/paths.js'
import { buildTestApp, createTestDatabase, gql, token, type TestDatabase } from '../helpers/app.js'

describe('query plans', () => {
  let db: TestDatabase
  let app: App
  const seen = new Map<string, QueryEvent>()

  beforeAll(async () => {
    db = await createTestDatabase()
    app = await buildTestApp(db.url, { CACHE_TTL_SECONDS: '0' })
    app.db.onQuery((e) => { if (!seen.has(e.name)) seen.set(e.name, e) })
  })
  afterAll(async () => {
    await app?.close()
    await db?.drop()
  })

  /** statement names used by the repositories' source: a new statement must be exercised here */
  function repositoryStatements (): string[] {
    const dir = join(ROOT, 'src/db/repositories')
    const names = readdirSync(dir).flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/query(?:<[^>]+>)?\('([a-z_]+)'/g)].map((m) => m[1]))
    return [...new Set(names)].sort()
  }

  it('uses an index for every repository statement', async () => {
    const admin = token('1', ['admin'])
    // a workload that runs each repository statement once
    await gql(app, '{ users(limit: 5, offset: 10) { id posts(limit: 3) { id author { id } } } user(id: "3") { id } posts(limit: 5, offset: 100) { id body } post(id: "7") { id } }')
    const created = await gql(app, 'mutation { createUser(input: { name: "Plan", email: "plan@example.com" }) { id } }', { token: admin, headers: { 'idempotency-key': 'plan-1' } })
    const id = created.body.data.createUser.id as string
    await gql(app, 'mutation { createUser(input: { name: "Plan", email: "plan@example.com" }) { id } }', { token: admin, headers: { 'idempotency-key': 'plan-1' } })
    await gql(app, 'mutation { createPost(input: { title: "t", body: "b" }) { id } }', { token: token(id) })
    await gql(app, `mutation { updateUser(id: "${id}", input: { name: "Planned" }) { id } }`, { token: admin })
    await gql(app, `mutation { deleteUser(id: "${id}") }`, { token: admin })
    await app.idempotency.cleanup()
    expect([...seen.keys()].filter((n) => repositoryStatements().includes(n)).sort()).toEqual(repositoryStatements())

    const plans: Record<string, string[]> = {}
    const client = await app.db.pool.connect()
    try {
      await client.query('BEGIN')
      await client.query('SET LOCAL enable_seqscan = off')
      for (const name of repositoryStatements()) {
        const { text, values } = seen.get(name)!
        const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${text}`, values)
        const scans: string[] = []
        const walk = (node: Record<string, unknown>) => {
          if (node['Node Type'] === 'Seq Scan') scans.push(String(node['Relation Name']))
          for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) walk(child)
        }
        walk((rows[0]['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0].Plan)
        plans[name] = scans
      }
    } finally {
      await client.query('ROLLBACK')
      client.release()
    }
    expect(plans).toEqual(Object.fromEntries(repositoryStatements().map((n) => [n, []])))
  })
})
