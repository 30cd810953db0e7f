// The k6 scripts themselves, loaded in Node with k6's modules shimmed (test/k6/k6-shims.ts): their
// options and thresholds against the production-readiness targets, and their setup, iterations and
// summary with requests recorded instead of sent.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { k6 } from './k6-shims.js'
import { OPERATIONS } from '../../k6/lib/operations.js'

vi.mock('k6', async () => (await import('./k6-shims.js')).modules.k6)
vi.mock('k6/http', async () => (await import('./k6-shims.js')).modules.http)
vi.mock('k6/execution', async () => (await import('./k6-shims.js')).modules.execution)
vi.mock('k6/metrics', async () => (await import('./k6-shims.js')).modules.metrics)
vi.mock('k6/encoding', async () => (await import('./k6-shims.js')).modules.encoding)

// The production-readiness performance targets (p95 < 200 ms, p99 < 500 ms, error rate
// under 1%) and the suite's check rate. Written here, not imported from k6/lib, so that loosening
// the scripts fails this test.
const CHECKLIST = { p95: 200, p99: 500, failed: 0.01, checks: 0.99 }
const SCRIPTS = ['smoke', 'load', 'stress', 'spike', 'soak'] as const

async function load (name: string, env: Record<string, string> = {}) {
  vi.resetModules()
  ;(globalThis as { __ENV?: Record<string, string> }).__ENV = env
  return await import(`../../k6/${name}.js`) as Record<string, any>
}

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
const jwt = (claims: object) => `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.signature`
const ADMIN = jwt({ sub: '1', roles: ['admin'], exp: Math.floor(Date.now() / 1000) + 86_400 })

/** the tightest bound the thresholds put on `stat` of `metric` ('<' an upper bound, '>' a lower one) */
function bound (thresholds: Record<string, Array<string | { threshold: string }>>, metric: string, stat: string, dir: '<' | '>') {
  const values = (thresholds[metric] ?? []).map((t) => typeof t === 'string' ? t : t.threshold)
    .map((t) => /^([a-z]+|p\(\d+\))\s*(<=|<|>=|>)\s*([\d.]+)$/.exec(t.replace(/\s/g, '')))
    .filter((m) => m !== null && m[1] === stat && m[2][0] === dir).map((m) => Number(m![3]))
  if (values.length === 0) return undefined
  return dir === '<' ? Math.min(...values) : Math.max(...values)
}

describe.each(SCRIPTS)('%s.js', (name) => {
  it('holds the production-readiness targets\'s targets, overall and for every operation', async () => {
    const { options } = await load(name)
    const t = options.thresholds
    for (const suffix of ['', ...OPERATIONS.map((op) => `{op:${op.name}}`)]) {
      expect(bound(t, `http_req_duration${suffix}`, 'p(95)', '<'), suffix).toBeLessThanOrEqual(CHECKLIST.p95)
      expect(bound(t, `http_req_duration${suffix}`, 'p(99)', '<'), suffix).toBeLessThanOrEqual(CHECKLIST.p99)
      expect(bound(t, `checks${suffix}`, 'rate', '>'), suffix).toBeGreaterThanOrEqual(CHECKLIST.checks)
    }
    // hostile operations are expected to fail (400): they have no failure-rate threshold of their own
    for (const suffix of ['', ...OPERATIONS.filter((op) => op.kind !== 'hostile').map((op) => `{op:${op.name}}`)]) {
      expect(bound(t, `http_req_failed${suffix}`, 'rate', '<'), suffix).toBeLessThanOrEqual(CHECKLIST.failed)
    }
    expect(options.summaryTrendStats).toEqual(expect.arrayContaining(['count', 'med', 'p(95)', 'p(99)']))
  })

  it('exports setup, an iteration and a handleSummary', async () => {
    const script = await load(name)
    expect([typeof script.setup, typeof script.default, typeof script.handleSummary]).toEqual(['function', 'function', 'function'])
  })
})

describe('the scenarios', () => {
  it('smoke is 1 VU for 30 s; load is the production-readiness targets\'s stages', async () => {
    expect((await load('smoke')).options.scenarios.smoke).toEqual({ executor: 'constant-vus', vus: 1, duration: '30s' })
    expect((await load('load')).options.scenarios.load.stages).toEqual([
      { duration: '2m', target: 100 }, { duration: '5m', target: 100 }, { duration: '2m', target: 200 },
      { duration: '5m', target: 200 }, { duration: '2m', target: 0 }])
  })

  it('stress raises the arrival rate until the overall thresholds abort it', async () => {
    const { options, scheduledRate } = await load('stress')
    const stress = options.scenarios.stress
    expect(stress.executor).toBe('ramping-arrival-rate')
    const targets = stress.stages.map((s: { target: number }) => s.target)
    expect(targets).toEqual([...targets].sort((a, b) => a - b))
    for (const metric of ['http_req_duration', 'http_req_failed', 'checks']) {
      for (const t of options.thresholds[metric]) expect(t).toMatchObject({ abortOnFail: true })
    }
    expect([scheduledRate(0), scheduledRate(60), scheduledRate(120), scheduledRate(1e6)]).toEqual([10, 50, 125, 3000])
  })

  it('scales VUs with SCALE and durations with TIME_SCALE, and refuses nonsense', async () => {
    expect((await load('load', { SCALE: '0.1', TIME_SCALE: '0.5' })).options.scenarios.load.stages).toEqual([
      { duration: '1m', target: 10 }, { duration: '150s', target: 10 }, { duration: '1m', target: 20 },
      { duration: '150s', target: 20 }, { duration: '1m', target: 0 }])
    await expect(load('load', { SCALE: '-1', BASE_URL: 'ftp://x' })).rejects.toThrow(/BASE_URL=ftp:\/\/x is not an http\(s\) URL; SCALE=-1/)
  })
})

describe('setup and iterations', () => {
  beforeEach(() => k6.reset())

  it('refuses to start without a usable admin token', async () => {
    await expect(load('smoke').then((s) => s.setup())).rejects.toThrow(/TOKEN is not set/)
    const user = jwt({ sub: '2', roles: [], exp: Math.floor(Date.now() / 1000) + 3600 })
    expect((await load('smoke', { TOKEN: user })).setup).toThrow(/role admin/)
    const expired = jwt({ sub: '1', roles: ['admin'], exp: Math.floor(Date.now() / 1000) - 10 })
    expect((await load('smoke', { TOKEN: expired })).setup).toThrow(/expired/)
    k6.answer = () => ({ status: 401, body: '{"errors":[{"extensions":{"code":"UNAUTHENTICATED"}}]}' })
    expect((await load('smoke', { TOKEN: ADMIN })).setup).toThrow(/could not create a user.*HTTP 401/)
  })

  it('creates the users updateUser renames, then sends every operation once per smoke iteration', async () => {
    const smoke = await load('smoke', { TOKEN: ADMIN, BASE_URL: 'http://staging.example:8000/' })
    let id = 300
    k6.answer = (req) => ({ status: 200, body: JSON.stringify({ data: { createUser: { id: String(++id), ...JSON.parse(req.body).variables.input } } }) })
    const data = smoke.setup()
    expect(data.userIds).toEqual(['301', '302', '303', '304', '305'])
    expect(k6.checks.filter((c) => !c.ok)).toEqual([])

    k6.reset()
    smoke.default(data)
    expect(k6.sent.map((r) => [r.params.tags, r.url, r.params.headers.authorization, r.params.responseCallback]))
      .toEqual(OPERATIONS.map((op) => [{ op: op.name, kind: op.kind }, 'http://staging.example:8000/graphql', `Bearer ${ADMIN}`,
        op.kind === 'hostile' ? { expectedStatuses: [400] } : undefined]))
    expect(k6.sent.filter((r) => 'responseCallback' in r.params)).toHaveLength(5)
    // every check carries its request's tags (the per-operation check thresholds filter on them)
    expect(k6.checks.every((c) => c.tags.op && c.tags.kind)).toBe(true)
    expect(JSON.parse(k6.sent.find((r) => r.params.tags.op === 'updateUser')!.body).variables.id).toBe('302')
  })

  it('walks the weighted mix under load', async () => {
    const script = await load('load', { TOKEN: ADMIN })
    for (let i = 0; i < 100; i++) {
      k6.vu.iterationInScenario = i
      script.default({ run: 'r', userIds: ['301'] })
    }
    const count = (op: string) => k6.sent.filter((r) => r.params.tags.op === op).length
    expect(OPERATIONS.map((op) => [op.name, count(op.name)])).toEqual(OPERATIONS.map((op) => [op.name, op.weight]))
  })
})

describe('handleSummary', () => {
  const data = (ok: boolean) => ({
    state: { testRunDurationMs: 61_000 },
    metrics: {
      http_reqs: { values: { count: 1200, rate: 19.7 } },
      http_req_duration: { values: { count: 1200, med: 4.2, 'p(95)': 12, 'p(99)': 30, max: 80 }, thresholds: { 'p(95)<200': { ok: true }, 'p(99)<500': { ok } } },
      'checks{op:users}': { values: { rate: 1 }, thresholds: { 'rate>0.99': { ok: true } } },
      stress_target_rate: { values: { max: 812.4 } }
    }
  })

  it('prints the verdict and writes the JSON under RESULTS_DIR', async () => {
    const stress = await load('stress', { RESULTS_DIR: '/scripts/results/' })
    const out = stress.handleSummary(data(true))
    const file = Object.keys(out).find((k) => k !== 'stdout')!
    expect(file).toMatch(/^\/scripts\/results\/stress-\d{4}-.*\.json$/)
    expect(JSON.parse(out[file])).toMatchObject({ scenario: 'stress', passed: true, metrics: { http_reqs: { values: { count: 1200 } } } })
    expect(out.stdout).toContain('RESULT: PASS (all 3 thresholds held)')
    expect(out.stdout).toContain('arrival rate reached: 812 iterations/s')
    expect(out.stdout).toMatch(/\n {2}all +1200 +4\.2ms +12ms +30ms +80ms/)

    const failed = (await load('load')).handleSummary(data(false))
    expect(failed.stdout).toContain('RESULT: FAIL (1 of 3 thresholds crossed)')
    expect(failed.stdout).toContain('x http_req_duration p(99)<500')
    expect(Object.keys(failed)).toContainEqual(expect.stringMatching(/^k6\/results\/load-.*\.json$/))
  })
})
