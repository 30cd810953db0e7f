// `npx tsx bench/most-expensive.ts`: the most expensive documents the default limits allow
// (MAX_QUERY_COMPLEXITY 1000, 15 aliases, depth 10), each sent alone to a server in its own process
// on real PostgreSQL, while /health is polled. The worst case data: 100,000 posts, the first 2,000
// with 10,000-character bodies (the largest allowed). Prints one markdown table (docs/security.md).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import pg from 'pg'
import { withDatabase } from '../src/db/connection.js'
import { migrate } from '../src/db/migrate.js'
import { seedDatabase } from '../src/db/seed.js'
import { ROOT } from '../src/paths.js'

const pgUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL
if (!pgUrl) throw new Error('set TEST_DATABASE_URL')
const NAME = 'bastion_worst'

const aliases = (n: number, field: (i: number) => string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field(i)}`).join(' ')} }`
export const DOCUMENTS: Array<[string, string]> = [
  ['bytes: 76 posts with every field', '{ posts(limit: 76) { id title body createdAt } }'],
  ['rows: 9 aliases x 100 posts { id }, 10 KB bodies', aliases(9, (i) => `posts(limit: 100, offset: ${i}) { id }`)],
  ['rows: 3 aliases x 100 posts { id }, 50-byte bodies', aliases(3, (i) => `posts(limit: 100, offset: ${2000 + i}) { id }`)],
  ['joins: users(7) { posts { author { posts { id } } } }', '{ users(limit: 7) { posts(limit: 10) { author { posts(limit: 10) { id } } } } }'],
  ['paging: posts(limit: 1, offset: 9980)', '{ posts(limit: 1, offset: 9980) { id } }'],
  ['paging: 15 aliases of posts(limit: 1, offset: 630+i)', aliases(15, (i) => `posts(limit: 1, offset: ${630 + i}) { id }`)]
]

async function prepare () {
  const admin = new pg.Client({ connectionString: pgUrl })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${NAME}`)
  await admin.end()
  const url = withDatabase(pgUrl!, NAME)
  await migrate({ connection: url })
  await seedDatabase(url, { users: 1000, postsPerUser: 100 })
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  await c.query("UPDATE posts SET body = repeat('x', 10000) WHERE id <= 2000")
  await c.query('ANALYZE')
  await c.end()
  return url
}

async function freePort () {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as { port: number }).port
  s.close()
  return port
}

const rss = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

// CPU time of the server process (user + system), ms: what a request costs whatever the machine's load
const cpu = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}
// prom-client's event-loop delay histogram is reset by each scrape: the worst block since the last
const loopLagMs = async () => {
  const text = await (await fetch(`${base}/metrics`)).text()
  return Number(/^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(text)?.[1] ?? NaN) * 1000
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const url = await prepare()
const port = await freePort()
const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
  cwd: ROOT,
  stdio: 'ignore',
  env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'warn', DATABASE_URL: url, PORT: String(port), RATE_LIMIT_MAX: '1000000', RATE_LIMIT_POINTS: '100000000', CACHE_TTL_SECONDS: '0' }
})
// the server goes with this script, however it ends
process.on('exit', () => child.kill('SIGKILL'))
const base = `http://127.0.0.1:${port}`
for (let i = 0; ; i++) {
  try { if ((await fetch(`${base}/health`)).ok) break } catch { if (i > 300) throw new Error('server did not start') }
  await new Promise((r) => setTimeout(r, 100))
}

async function healthWhile (work: Promise<unknown>) {
  let done = false
  void work.finally(() => { done = true })
  let worst = 0
  while (!done) {
    const t = performance.now()
    await fetch(`${base}/health`).then((r) => r.arrayBuffer())
    worst = Math.max(worst, performance.now() - t)
  }
  return worst
}

const rows: string[] = ['| document | cost | rows | bytes | latency ms | server CPU ms | event-loop block ms | /health worst ms | RSS MB (before -> peak) |', '|---|---|---|---|---|---|---|---|---|']
// the noise floor: /health alone for as long as a document takes
await loopLagMs()
const idle = await healthWhile(new Promise((resolve) => setTimeout(resolve, 300)))
rows.push(`| (none: /health alone, 300 ms) | | | | | | ${(await loopLagMs()).toFixed(1)} | ${idle.toFixed(1)} | |`)
for (const [label, query] of DOCUMENTS) {
  const runs: Array<{ ms: number, cpu: number, lag: number, health: number }> = []
  for (let run = 0; run < 6; run++) {
    await loopLagMs()
    const cpu0 = cpu(child.pid!)
    const before = rss(child.pid!)
    const t = performance.now()
    const request = fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })
      .then(async (r) => ({ cost: r.headers.get('x-ratelimit-cost'), status: r.status, text: await r.text(), ms: performance.now() - t }))
    const health = await healthWhile(request)
    const res = await request
    const cpuMs = cpu(child.pid!) - cpu0
    const lag = await loopLagMs()
    const after = rss(child.pid!)
    const body = JSON.parse(res.text) as { data?: unknown, errors?: unknown }
    if (res.status !== 200 || body.errors) throw new Error(`${label}: ${res.status} ${res.text.slice(0, 300)}`)
    const count = (JSON.stringify(body.data).match(/"id":/g) ?? []).length
    // the first run warms caches and connections; the median of the other five is reported
    if (run > 0) runs.push({ ms: res.ms, cpu: cpuMs, lag, health })
    if (run === 5) {
      const m = (k: keyof typeof runs[0]) => median(runs.map((r) => r[k])).toFixed(0)
      rows.push(`| ${label} | ${res.cost ?? ''} | ${count} | ${res.text.length} | ${m('ms')} | ${m('cpu')} | ${m('lag')} | ${m('health')} | ${before.rss.toFixed(0)} -> ${after.hwm.toFixed(0)} |`)
    }
  }
}
process.stdout.write(`${rows.join('\n')}\n`)
child.kill('SIGTERM')
await once(child, 'exit')
const admin = new pg.Client({ connectionString: pgUrl })
await admin.connect()
await admin.query(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`)
await admin.end()
