// The hook map of docs/architecture.md against the real thing: a server built like src/server.ts,
// with every request hook wrapped as it is added (app hooks through addHook, route hooks after each
// onRoute hook has run, Mercurius's hooks once ready), records the hooks a GraphQL request really
// passes, in the order they run. The table must list exactly those, in that order.
import { readFileSync } from 'node:fs'
import Fastify, { type FastifyInstance, type InjectOptions, type RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import app from '../../src/app.js'
import { serverOptions } from '../../src/server-options.js'
import { createTestDatabase, MODERN_ACCEPT, testConfig, token, type TestDatabase } from '../helpers/app.js'

const FASTIFY_PHASES = ['onRequest', 'preParsing', 'preValidation', 'preHandler', 'preSerialization', 'onSend', 'onResponse'] as const
const MERCURIUS_PHASES = ['preParsing', 'preValidation', 'preExecution', 'onResolution'] as const
// what the test server turns on; rows for the other settings (replicas, tracing) are not checked here
const ON = new Set(['always', 'CORS_ORIGINS', 'FORCE_HTTPS', 'READ_ONLY'])

type Fn = (...args: unknown[]) => unknown
const wrapped = new WeakSet<Fn>()
let trace: string[] | null = null

function traced (level: string, phase: string, fn: Fn): Fn {
  if (wrapped.has(fn)) return fn
  const name = fn.name.replace(/^bound /, '') || '(anonymous)'
  const wrapper = function (this: unknown, ...args: unknown[]) {
    trace?.push(`${level} ${phase} ${name}`)
    return fn.apply(this, args)
  }
  wrapped.add(wrapper)
  return wrapper
}

function wrapRouteHooks (route: RouteOptions) {
  const hooks = route as unknown as Record<string, Fn | Fn[] | undefined>
  for (const phase of FASTIFY_PHASES) {
    const current = hooks[phase]
    if (current === undefined) continue
    hooks[phase] = [current].flat().map((fn) => traced('route', phase, fn))
  }
}

/** a Fastify server with the app's options and plugin, every request hook traced */
async function tracedServer (config: ReturnType<typeof testConfig>): Promise<FastifyInstance> {
  const server = Fastify(serverOptions(config)) as unknown as FastifyInstance
  const addHook = server.addHook as unknown as (this: FastifyInstance, name: string, fn: Fn) => FastifyInstance
  ;(server as unknown as { addHook: typeof addHook }).addHook = function (name, fn) {
    if ((FASTIFY_PHASES as readonly string[]).includes(name)) return addHook.call(this, name, traced('app', name, fn))
    if (name !== 'onRoute') return addHook.call(this, name, fn)
    // route hooks are whatever the onRoute hooks leave on the route: wrap them after each one
    return addHook.call(this, name, function (this: unknown, ...args: unknown[]) {
      fn.apply(this, args)
      wrapRouteHooks(args[0] as RouteOptions)
    })
  }
  await server.register(fp(app, { name: 'app' }), { config })
  await server.ready()
  const kHooks = Object.getOwnPropertySymbols(server.graphql).find((s) => s.description === 'mercurius.hooks')!
  const hooks = (server.graphql as unknown as Record<symbol, Record<string, Fn[]>>)[kHooks]
  for (const phase of MERCURIUS_PHASES) hooks[phase].splice(0, Infinity, ...hooks[phase].map((fn) => traced('mercurius', phase, fn)))
  return server
}

interface Row { n: number, level: string, phase: string, hook: string, file: string, refuses: string, when: string }

/** the hook map table of docs/architecture.md */
function hookMap (): Row[] {
  const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8')
  const section = doc.split(/^## /m).find((s) => s.startsWith('Hook map'))
  if (!section) throw new Error('docs/architecture.md has no "## Hook map" section')
  const lines = section.split('\n').filter((l) => /^\|\s*\d+\s*\|/.test(l))
  return lines.map((line) => {
    const [n, level, phase, hook, file, refuses, when] = line.split('|').slice(1, -1).map((c) => c.trim().replace(/^`|`$/g, ''))
    return { n: Number(n), level, phase, hook, file, refuses, when }
  })
}

let db: TestDatabase
let server: FastifyInstance

beforeAll(async () => {
  db = await createTestDatabase()
  server = await tracedServer(testConfig(db.url, {
    CORS_ORIGINS: 'https://app.example',
    TRUST_PROXY: 'true',
    FORCE_HTTPS: 'true',
    READ_ONLY: 'true'
  }))
})
afterAll(async () => {
  await server?.close()
  await db?.drop()
})

async function recorded (request: InjectOptions) {
  trace = []
  const res = await server.inject(request)
  // onResponse runs once the response has been written, after inject has its answer
  await new Promise((resolve) => setTimeout(resolve, 50))
  const seen = trace
  trace = null
  return { res, seen }
}

// two documents: Mercurius validates a document once, then keeps it (rows 16 and 17 run once per document)
const POST_QUERY = '{ users(limit: 1) { id } }'
const GET_QUERY = '{ users(limit: 2) { id } }'

describe('the hook map in docs/architecture.md', () => {
  it('numbers its rows 1, 2, 3... and names a file that exists for each', () => {
    const rows = hookMap()
    expect(rows.length).toBeGreaterThan(10)
    expect(rows.map((r) => r.n)).toEqual(rows.map((_, i) => i + 1))
    for (const r of rows) expect(() => readFileSync(new URL(`../../${r.file}`, import.meta.url)), r.file).not.toThrow()
  })

  it('lists the hooks a GraphQL POST passes, in the order they run', async () => {
    const { res, seen } = await recorded({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', accept: MODERN_ACCEPT, authorization: `Bearer ${token('1')}` },
      payload: JSON.stringify({ query: POST_QUERY })
    })
    expect(res.statusCode).toBe(200)
    const expected = hookMap().filter((r) => ON.has(r.when) || r.when === 'POST').map((r) => `${r.level} ${r.phase} ${r.hook}`)
    expect(seen).toEqual(expected)
  })

  it('lists the hooks a GraphQL GET passes, in the order they run', async () => {
    const { res, seen } = await recorded({
      method: 'GET',
      url: `/graphql?query=${encodeURIComponent(GET_QUERY)}`,
      headers: { accept: MODERN_ACCEPT, authorization: `Bearer ${token('1')}`, 'graphql-require-preflight': '1' }
    })
    expect(res.statusCode).toBe(200)
    const expected = hookMap().filter((r) => ON.has(r.when) || r.when === 'GET').map((r) => `${r.level} ${r.phase} ${r.hook}`)
    expect(seen).toEqual(expected)
  })
})
