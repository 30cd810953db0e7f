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
import { Redis } from 'ioredis'
import pg from 'pg'
import { signToken } from '../src/auth/jwt.js'
import { withDatabase } from '../src/db/connection.js'
import { createScriptDatabase } from '../src/db/database.js'
import { migrate } from '../src/db/migrate.js'
import { seedDatabase } from '../src/db/seed.js'
import { ROOT } from '../src/paths.js'
import { startJwksServer } from './jwks-server.js'
import { callgrind, haveValgrind } from './instructions.js'
import { MAIN_QUERY, MIXED } from './workloads.js'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, warmup: { type: 'string', default: '3' }, steady: { type: 'string', default: '60' }, connections: { type: 'string', default: '50' }, identity: { type: 'boolean', default: false }, rows: { type: 'string' }, 'steady-warmup': { type: 'string', default: '30' }, profile: { type: 'boolean', default: false }, instructions: { type: 'boolean', default: false }, requests: { type: 'string', default: '3000' }, 'warmup-requests': { type: 'string', default: '4000' }, sampling: { type: 'string', default: '0.1' } } })
const SECONDS = Number(args.seconds)
const WARMUP = Number(args.warmup)
const CONNECTIONS = Number(args.connections)
// `--rows 1,2,8`: only those rows (and no steady run unless `--steady` is given too)
const ROWS = args.rows ? new Set(args.rows.split(',').map(Number)) : undefined
// `--instructions`: instructions per request under callgrind (bench/instructions.ts) instead of req/s
if (args.instructions && !haveValgrind()) {
  process.stderr.write('npm run bench -- --instructions needs Valgrind (Debian: apt-get install valgrind)\n')
  process.exit(1)
}
const CALLGRIND = args.instructions ? callgrind() : undefined
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

// a database of this run's own: two benches at once (other worktrees, CI) must not drop each other's
const BENCH_DATABASE = `bastion_bench_${process.pid}`

async function onAdmin (sql: string[]) {
  const admin = new pg.Client({ connectionString: pgUrl })
  await admin.connect()
  try {
    for (const statement of sql) await admin.query(statement)
  } finally {
    await admin.end()
  }
}

async function prepareDatabase (): Promise<string> {
  await onAdmin([`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`, `CREATE DATABASE ${BENCH_DATABASE}`])
  const url = withDatabase(pgUrl!, BENCH_DATABASE)
  await migrate({ connection: url })
  await seedDatabase(url)
  const db = createScriptDatabase(url)
  await db.query('analyze', 'ANALYZE')
  await db.close()
  return url
}

interface Started { child: ChildProcess, url: string }

// the start command itself (package.json "start", which docker/Dockerfile's CMD repeats), less `node`:
// its V8 flags (young and old generation sizing, measured in docs/performance.md) are measured too
const START_ARGS = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ').slice(1)

// set by row(): with `--instructions`, the row's server runs under callgrind (not the probe for the bare route's bytes)
let counted = false
/** node, or node under callgrind for a counted row: the command and its leading arguments */
const nodeCommand = () => counted && CALLGRIND ? [...CALLGRIND.prefix, process.execPath] : [process.execPath]

async function startServer (env: Record<string, string>): Promise<Started> {
  const port = await freePort()
  const out = openSync(join(tmpdir(), `bastion-bench-${port}.log`), 'w')
  // `--profile`: a V8 CPU profile of each server, written when it exits (open it in Chrome DevTools)
  const profile = args.profile ? ['--cpu-prof', '--cpu-prof-dir', join(tmpdir(), 'bastion-bench-profiles')] : []
  const [command, ...prefix] = nodeCommand()
  const child = spawn(command, [...prefix, ...profile, ...START_ARGS], {
    cwd: ROOT, env: { PATH: process.env.PATH, ...env, PORT: String(port) }, stdio: ['ignore', out, out]
  })
  const url = `http://127.0.0.1:${port}`
  await waitFor(`${url}/health`)
  return { child, url }
}

async function startBare (body: string): Promise<Started> {
  const [command, ...prefix] = nodeCommand()
  // HOST: the name of Valgrind's control pipes (bench/instructions.ts); the bare server ignores it
  const child = spawn(command, [...prefix, '--import', 'tsx', 'bench/bare-server.ts', body], { cwd: ROOT, env: { ...process.env, HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] })
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

/** user + system CPU time of a process so far, in ms (/proc/<pid>/stat, clock ticks of 10 ms) */
function cpuMs (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

function rss (pid: number): { rss: number, peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)![1])
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 }
}

interface Result { rps: number, p50: number, p975: number, p99: number, errors: number, non2xx: number, total: number }

/** autocannon for `seconds`, or for `amount` requests when given */
function drive (url: string, seconds: number, requests: Array<{ body: string }>, bearer = token, amount?: number): Result {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/drive.ts', JSON.stringify({ url, token: bearer, seconds, amount, connections: CONNECTIONS, requests })], { cwd: ROOT, encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop()!) as Result
}

interface MixResult extends Result { operations: Array<{ name: string, count: number, failed: number, p95: number }> }

/** cache_requests_total by cache and result, from the server's /metrics */
async function cacheCounters (url: string): Promise<Map<string, { hit: number, miss: number }>> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const counters = new Map<string, { hit: number, miss: number }>()
  for (const m of text.matchAll(/^cache_requests_total\{cache="([^"]+)",result="(hit|miss)"\} (\S+)$/gm)) {
    const c = counters.get(m[1]) ?? { hit: 0, miss: 0 }
    c[m[2] as 'hit' | 'miss'] = Number(m[3])
    counters.set(m[1], c)
  }
  return counters
}

/** the k6 mix (bench/mix.ts): per-operation p95, and each cache's hit ratio over the measured run */
async function measureMix (s: Started) {
  const mix = (seconds: number) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'bench/mix.ts', JSON.stringify({ url: s.url, token, seconds, connections: CONNECTIONS })], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!) as MixResult
  mix(WARMUP)
  const before = await cacheCounters(s.url)
  const cpu = cpuMs(s.child.pid!)
  const result = mix(SECONDS)
  const cpuPerRequest = (cpuMs(s.child.pid!) - cpu) / Math.max(1, result.total)
  const after = await cacheCounters(s.url)
  if (after.size === 0) throw new Error('no cache_requests_total{cache,result} sample in /metrics: the bench reads a metric that changed')
  const main = result.operations.find((o) => o.name === 'users')!.p95
  const lines = ['| operation | requests | failed checks | p95 ms | p95 / users p95 |', '|---|---|---|---|---|']
  for (const o of result.operations.sort((a, b) => b.count - a.count)) lines.push(`| ${o.name} | ${o.count} | ${o.failed} | ${o.p95} | ${(o.p95 / main).toFixed(2)} |`)
  const ratios: string[] = []
  for (const [cache, a] of after) {
    const b = before.get(cache) ?? { hit: 0, miss: 0 }
    const hits = a.hit - b.hit
    const lookups = hits + a.miss - b.miss
    if (lookups > 0) ratios.push(`${cache} ${((100 * hits) / lookups).toFixed(1)}% of ${lookups}`)
  }
  lines.push('', `cache hit ratio under the mix: ${ratios.join('; ')}`)
  return { ...result, peakRss: rss(s.child.pid!).peak, cpuPerRequest, detail: lines.join('\n') }
}

function measure (s: Started, requests: Array<{ body: string }>, bearer = token) {
  drive(s.url, WARMUP, requests, bearer)
  const cpu = cpuMs(s.child.pid!)
  const result = drive(s.url, SECONDS, requests, bearer)
  // the server's CPU time per request: steadier than req/s on a shared machine
  const cpuPerRequest = (cpuMs(s.child.pid!) - cpu) / Math.max(1, result.total)
  return { ...result, peakRss: rss(s.child.pid!).peak, cpuPerRequest }
}

/** `--instructions`: a fixed number of requests after a fixed warm-up, counted by callgrind */
function measureInstructions (s: Started, requests: Array<{ body: string }>, bearer = token) {
  drive(s.url, 0, requests, bearer, Number(args['warmup-requests']))
  CALLGRIND!.zero(s.child.pid!)
  const result = drive(s.url, 0, requests, bearer, Number(args.requests))
  const instructions = CALLGRIND!.dump(s.child.pid!) / Math.max(1, result.total)
  return { ...result, peakRss: rss(s.child.pid!).peak, cpuPerRequest: Number.NaN, instructions }
}

const main = [{ body: JSON.stringify({ query: MAIN_QUERY }) }]
process.stderr.write('building...\n')
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' })
// this run's own database and Redis keys (rate-limit windows, cached reads, persisted queries) go
// at the end, whatever failed: the names carry the pid, so no later run would drop them
const REDIS_KEY_PREFIX = `bench-${process.pid}:`
async function cleanUp () {
  await onAdmin([`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`])
  const redis = new Redis(redisUrl!)
  for await (const keys of redis.scanStream({ match: `${REDIS_KEY_PREFIX}*`, count: 1000 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) await redis.del(...keys)
  }
  redis.disconnect()
}

try {
  process.stderr.write('preparing the bench database...\n')
  const databaseUrl = await prepareDatabase()
  const production: Record<string, string> = {
    NODE_ENV: 'production', HOST: '127.0.0.1', LOG_LEVEL: 'info', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX, JWT_SECRET, SHUTDOWN_DELAY_MS: '0',
    // a limit high enough never to reject: the rate limiter still runs on every request
    RATE_LIMIT_MAX: '1000000000', RATE_LIMIT_POINTS: '1000000000000'
  }
  const hardeningOff: Record<string, string> = {
    ...production, UNSAFE_ALLOW_DISABLED_LIMITS: 'true', RATE_LIMIT_MAX: '0', RATE_LIMIT_POINTS: '0', MAX_QUERY_DEPTH: '0',
    MAX_QUERY_COMPLEXITY: '0', MAX_ALIASES: '0', MAX_TOKENS: '0', MAX_DIRECTIVES: '0'
  }

  const rows: Array<{ name: string } & Result & { peakRss: number, cpuPerRequest: number, instructions?: number, detail?: string }> = []
  async function row (name: string, start: () => Promise<Started>, requests: typeof main | 'k6 mix' = main, bearer = token) {
    if (ROWS && !ROWS.has(Number.parseInt(name))) return
    if (CALLGRIND && requests === 'k6 mix') {
      process.stderr.write(`${name}: not counted with --instructions (its operations differ in cost: count rows 1 to 7)\n`)
      return
    }
    process.stderr.write(`${name}...\n`)
    counted = true
    const s = await start().finally(() => { counted = false })
    try {
      rows.push({ name, ...(requests === 'k6 mix' ? await measureMix(s) : CALLGRIND ? measureInstructions(s, requests, bearer) : measure(s, requests, bearer)) })
    } finally { await stop(s) }
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
    // `--sampling 0` or `--sampling 1`: what a request that is not sampled, or one that is, costs
    await row(`7. full stack, tracing ${Number(args.sampling) * 100}% (OTLP to a local receiver)`, () => startServer({
      ...production, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: args.sampling
    }))
    await stop(sink)
    // the k6 suite's mix (k6/lib/operations.js), hostile operations included: per-operation p95 below
    await row('8. full stack, the k6 mix', () => startServer(production), 'k6 mix')
  }

  const f = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 })
  if (CALLGRIND) {
    const against = (n: number) => rows.find((r) => r.name.startsWith(`${n}.`))?.instructions
    const [bare, full] = [against(1), against(2)]
    process.stdout.write(`\n${args['warmup-requests']} requests of warm-up, then ${args.requests} counted (every thread of the server):\n\n| configuration | instructions per request | row 1 / this row | this row / row 2 |\n|---|---|---|---|\n`)
    for (const r of rows) process.stdout.write(`| ${r.name} | ${f(r.instructions!)} | ${bare ? (bare / r.instructions!).toFixed(3) : '-'} | ${full ? (r.instructions! / full).toFixed(3) : '-'} |\n`)
  } else {
    const byRow = (n: number) => rows.find((r) => r.name.startsWith(`${n}.`))
    const base = byRow(1)?.rps
    process.stdout.write('\n| configuration | req/s | p50 ms | p97.5 ms | p99 ms | errors | non-2xx | peak RSS MB | CPU ms/req | ratio |\n|---|---|---|---|---|---|---|---|---|---|\n')
    for (const r of rows) process.stdout.write(`| ${r.name} | ${f(r.rps)} | ${r.p50} | ${r.p975} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${f(r.peakRss)} | ${r.cpuPerRequest.toFixed(3)} | ${base ? (r.rps / base).toFixed(2) : '-'} |\n`)
    process.stdout.write('\n')
    const ratio = (label: string, a: number, b: number) => {
      const ra = byRow(a)
      const rb = byRow(b)
      if (ra && rb) process.stdout.write(`${label}: ${(ra.rps / rb.rps).toFixed(2)}\n`)
    }
    ratio('full stack / bare route', 2, 1)
    ratio('full stack / hardening off', 2, 3)
    ratio('RS256 (JWKS) / HS256', 6, 2)
    ratio(`tracing ${Number(args.sampling) * 100}% / full stack`, 7, 2)
  }
  for (const r of rows) if (r.detail) process.stdout.write(`\n${r.name}:\n${r.detail}\n`)

  // `--steady 0` skips it
  if (Number(args.steady) > 0 && !args.identity && !CALLGRIND) {
    process.stderr.write(`steady load for ${args.steady} s after ${args['steady-warmup']} s of warm-up...\n`)
    const steady = await startServer(production)
    drive(steady.url, Number(args['steady-warmup']), main)
    const before = rss(steady.child.pid!).rss
    const long = drive(steady.url, Number(args.steady), main)
    const after = rss(steady.child.pid!).rss
    const peak = rss(steady.child.pid!).peak
    const heap = await (await fetch(`${steady.url}/metrics`)).text()
    await stop(steady)
    const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(heap)?.[1] ?? NaN) / 1024 / 1024
    process.stdout.write(`steady ${args.steady} s (full stack, after ${args['steady-warmup']} s of warm-up): ${f(long.rps)} req/s, p99 ${long.p99} ms, errors ${long.errors}, non-2xx ${long.non2xx}; RSS ${before.toFixed(0)} MB -> ${after.toFixed(0)} MB (${(((after - before) / before) * 100).toFixed(1)}%), peak ${peak.toFixed(0)} MB; heap used at the end ${metric('nodejs_heap_size_used_bytes').toFixed(0)} MB of ${metric('nodejs_heap_size_total_bytes').toFixed(0)} MB\n`)
  }
} finally {
  await cleanUp()
  CALLGRIND?.cleanUp()
}
