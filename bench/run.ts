// `npm run bench`: the production build against real PostgreSQL and Redis (TEST_DATABASE_URL and
// TEST_REDIS_URL, or DATABASE_URL and REDIS_URL), driven by autocannon from a separate process,
// one configuration at a time. Prints one markdown table; ratios are the figures to compare.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { signToken } from '../src/auth/jwt.js'
import { withDatabase } from '../src/db/connection.js'
import { createScriptDatabase } from '../src/db/database.js'
import { migrate } from '../src/db/migrate.js'
import { seedDatabase } from '../src/db/seed.js'
import { ROOT } from '../src/paths.js'
import { startJwksServer } from './jwks-server.js'
import { MAIN_QUERY, MIXED } from './workloads.js'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, warmup: { type: 'string', default: '3' }, steady: { type: 'string', default: '60' }, connections: { type: 'string', default: '50' }, identity: { type: 'boolean', default: false }, rows: { type: 'string', default: '' } } })
const SECONDS = Number(args.seconds)
const WARMUP = Number(args.warmup)
const CONNECTIONS = Number(args.connections)
const pgUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL
const redisUrl = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL
if (!pgUrl || !redisUrl) {
  process.stderr.write('npm run bench needs PostgreSQL and Redis: set TEST_DATABASE_URL and TEST_REDIS_URL (or DATABASE_URL and REDIS_URL)\n')
  process.exit(1)
}
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret'
const token = signToken({ JWT_SECRET, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined }, { sub: '1', roles: ['admin'], expiresInSeconds: 3600 })

async function freePort (): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as { port: number }).port
  s.close()
  return port
}

async function waitFor (url: string, ms = 120_000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    try { if ((await fetch(url)).ok) return } catch { /* not yet */ }
  }
  throw new Error(`${url} did not answer in ${ms} ms`)
}

async function prepareDatabase (): Promise<string> {
  const admin = new pg.Client({ connectionString: pgUrl })
  await admin.connect()
  await admin.query('DROP DATABASE IF EXISTS bastion_bench WITH (FORCE)')
  await admin.query('CREATE DATABASE bastion_bench')
  await admin.end()
  const url = withDatabase(pgUrl!, 'bastion_bench')
  await migrate({ connection: url })
  await seedDatabase(url)
  const db = createScriptDatabase(url)
  await db.query('analyze', 'ANALYZE')
  await db.close()
  return url
}

interface Started { child: ChildProcess, url: string }

async function startServer (env: Record<string, string>): Promise<Started> {
  const port = await freePort()
  const out = openSync(join(tmpdir(), `bastion-bench-${port}.log`), 'w')
  const child = spawn(process.execPath, ['--enable-source-maps', '--import', './dist/src/instrument.js', 'dist/src/server.js'], {
    cwd: ROOT, env: { PATH: process.env.PATH, ...env, PORT: String(port) }, stdio: ['ignore', out, out]
  })
  const url = `http://127.0.0.1:${port}`
  await waitFor(`${url}/health`)
  return { child, url }
}

async function startBare (body: string): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-server.ts', body], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  const [chunk] = await once(child.stdout!, 'data') as [Buffer]
  return { child, url: `http://127.0.0.1:${chunk.toString().trim()}` }
}

/** a local OTLP/HTTP receiver for the tracing row (bench/otlp-sink.ts) */
async function startSink (): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/otlp-sink.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  const [chunk] = await once(child.stdout!, 'data') as [Buffer]
  return { child, url: `http://127.0.0.1:${chunk.toString().trim()}` }
}

async function stop (s: Started) {
  s.child.kill('SIGTERM')
  await once(s.child, 'exit')
}

function rss (pid: number): { rss: number, peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)![1])
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 }
}

interface Result { rps: number, p50: number, p975: number, p99: number, errors: number, non2xx: number, total: number }

function drive (url: string, seconds: number, requests: Array<{ body: string }>, bearer = token): Result {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/drive.ts', JSON.stringify({ url, token: bearer, seconds, connections: CONNECTIONS, requests })], { cwd: ROOT, encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop()!) as Result
}

function measure (s: Started, requests: Array<{ body: string }>, bearer = token) {
  drive(s.url, WARMUP, requests, bearer)
  const result = drive(s.url, SECONDS, requests, bearer)
  return { ...result, peakRss: rss(s.child.pid!).peak }
}

const main = [{ body: JSON.stringify({ query: MAIN_QUERY }) }]
process.stderr.write('building...\n')
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' })
process.stderr.write('preparing the bench database...\n')
const databaseUrl = await prepareDatabase()
const production: Record<string, string> = {
  NODE_ENV: 'production', HOST: '127.0.0.1', LOG_LEVEL: 'info', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl,
  REDIS_KEY_PREFIX: `bench-${process.pid}:`, JWT_SECRET, SHUTDOWN_DELAY_MS: '0',
  // a limit high enough never to reject: the rate limiter still runs on every request
  RATE_LIMIT_MAX: '1000000000', RATE_LIMIT_POINTS: '1000000000000'
}
const hardeningOff: Record<string, string> = {
  ...production, UNSAFE_ALLOW_DISABLED_LIMITS: 'true', RATE_LIMIT_MAX: '0', RATE_LIMIT_POINTS: '0', MAX_QUERY_DEPTH: '0',
  MAX_QUERY_COMPLEXITY: '0', MAX_ALIASES: '0', MAX_TOKENS: '0', MAX_DIRECTIVES: '0'
}

const rows: Array<{ name: string } & Result & { peakRss: number }> = []
// `--rows 2,7`: only those rows, then stop (the ratio column is then to the first row run; a ratio
// between rows not run reads NaN)
const only = args.rows ? new Set(args.rows.split(',')) : undefined
async function row (name: string, start: () => Promise<Started>, requests = main, bearer = token) {
  if (only && !only.has(name.split('.')[0])) return
  process.stderr.write(`${name}...\n`)
  const s = await start()
  try { rows.push({ name, ...measure(s, requests, bearer) }) } finally { await stop(s) }
}

// the bytes the real server answers, for the bare route
const probe = await startServer(production)
const sample = await (await fetch(`${probe.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: main[0].body })).text()
await stop(probe)

await row('1. bare Fastify route, same bytes', () => startBare(sample))
// no runtime switch is set here (the switch guard returns at its first line): this is also the switch-set-empty row
await row('2. full production stack', () => startServer(production))
// `--identity`: only the HS256 (row 2) and RS256 (row 6) rows, then stop
if (!args.identity) {
  await row('3. hardening off', () => startServer(hardeningOff))
  await row('4. full stack, cache off', () => startServer({ ...production, CACHE_TTL_SECONDS: '0' }))
  await row('5. full stack, mixed workload', () => startServer(production), MIXED)
}
// the same stack with an RS256 token whose key a local JWKS server publishes (verified tokens are cached alike)
const idp = await startJwksServer()
await row('6. full stack, RS256 token from a JWKS', () => startServer({ ...production, ...idp.env }), main, idp.token)
idp.server.close()
if (!args.identity) {
  const sink = await startSink()
  await row('7. full stack, tracing 10% (OTLP to a local receiver)', () => startServer({
    ...production, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1'
  }))
  await stop(sink)
}

const base = rows[0].rps
const f = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 })
const byRow = (n: number) => rows.find((r) => r.name.startsWith(`${n}.`)) ?? { rps: NaN }
process.stdout.write('\n| configuration | req/s | p50 ms | p97.5 ms | p99 ms | errors | non-2xx | peak RSS MB | ratio |\n|---|---|---|---|---|---|---|---|---|\n')
for (const r of rows) process.stdout.write(`| ${r.name} | ${f(r.rps)} | ${r.p50} | ${r.p975} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${f(r.peakRss)} | ${(r.rps / base).toFixed(2)} |\n`)
process.stdout.write(`\nRS256 (JWKS) / HS256: ${(byRow(6).rps / byRow(2).rps).toFixed(2)}\n`)
if (args.identity) process.exit(0)
process.stdout.write(`full stack / hardening off: ${(byRow(2).rps / byRow(3).rps).toFixed(2)}\n`)
process.stdout.write(`tracing 10% / full stack: ${(byRow(7).rps / byRow(2).rps).toFixed(2)}\n`)
if (only) process.exit(0)

process.stderr.write(`steady load for ${args.steady} s...\n`)
const steady = await startServer(production)
drive(steady.url, WARMUP, main)
const before = rss(steady.child.pid!).rss
const long = drive(steady.url, Number(args.steady), main)
const after = rss(steady.child.pid!).rss
await stop(steady)

process.stdout.write(`steady ${args.steady} s (full stack): ${f(long.rps)} req/s, p99 ${long.p99} ms, errors ${long.errors}, non-2xx ${long.non2xx}; RSS ${before.toFixed(0)} MB -> ${after.toFixed(0)} MB (${(((after - before) / before) * 100).toFixed(1)}%)\n`)
