// The monitoring stack without guesswork: promtool and amtool check the files and run the alert
// unit tests; every metric the dashboard and the alerts use is served by a real app after real
// traffic; every alert has a severity, a summary and a runbook section; and the Prometheus
// server itself scrapes the app once, evaluates the rules and runs every dashboard query.
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import type { App } from '../../src/app.js'
import { ROOT } from '../../src/paths.js'
import { buildTestApp, createTestDatabase, gql, token, type TestDatabase } from '../helpers/app.js'
import { freePort } from '../helpers/faults.js'
import { REQUIRE_SERVICES } from '../helpers/services.js'
import { parseMetrics, type Family } from './prom-text.js'
import { EXPORTER_METRIC, metricNames } from './promql.js'

const run = promisify(execFile)

// Debian's prometheus and prometheus-alertmanager packages (.ci/run installs them); without them
// these tests skip saying so, and with REQUIRE_SERVICES=1 (CI) that is a failure.
const MISSING = ['promtool', 'prometheus', 'amtool'].filter((tool) => !(process.env.PATH ?? '').split(delimiter).some((dir) => existsSync(join(dir, tool))))
if (MISSING.length > 0 && REQUIRE_SERVICES) throw new Error(`REQUIRE_SERVICES=1 but ${MISSING.join(', ')} missing: apt-get install prometheus prometheus-alertmanager`)
const SKIP = MISSING.length > 0 ? ` [skipped: needs ${MISSING.join(', ')}; apt-get install prometheus prometheus-alertmanager]` : ''
const PROMETHEUS = join(ROOT, 'docker/prometheus')
const ALERTMANAGER = join(ROOT, 'docker/alertmanager/alertmanager.yml')

interface Rule { alert: string, expr: string, labels?: Record<string, string>, annotations?: Record<string, string> }
const rules: Rule[] = (parseYaml(readFileSync(join(PROMETHEUS, 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules)
interface Panel { type: string, title: string, datasource?: { uid: string }, targets?: Array<{ expr: string }>, panels?: Panel[] }
const dashboard = JSON.parse(readFileSync(join(ROOT, 'docker/grafana/dashboards/bastion.json'), 'utf8')) as { uid: string, panels: Panel[] }
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row')
const dashboardExprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))

/** the family a sample name belongs to (histograms expose _bucket, _sum, _count) */
function familyOf (families: Map<string, Family>, name: string): Family | undefined {
  return families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''))
}

describe.skipIf(SKIP !== '')(`promtool and amtool${SKIP}`, () => {
  it('checks the Prometheus configuration and the rules, and runs the alert unit tests', async () => {
    const config = await run('promtool', ['check', 'config', 'prometheus.yml'], { cwd: PROMETHEUS })
    expect(config.stdout).toContain('SUCCESS: prometheus.yml is valid prometheus config file syntax')
    const check = await run('promtool', ['check', 'rules', 'alerts.yml'], { cwd: PROMETHEUS })
    expect(check.stdout).toContain(`SUCCESS: ${rules.length} rules found`)
    const unit = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: PROMETHEUS })
    expect(unit.stdout).toMatch(/alerts\.test\.yml\s+SUCCESS/)
  })

  it('covers every alert in the unit tests, firing at least once', () => {
    const tests = parseYaml(readFileSync(join(PROMETHEUS, 'alerts.test.yml'), 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string, exp_alerts: unknown[] }> }> }
    const fired = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)))
    const quiet = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length === 0).map((a) => a.alertname)))
    expect([...fired].sort()).toEqual(rules.map((r) => r.alert).sort())
    // the main alerts also have a healthy case that stays quiet
    for (const name of ['BastionHighErrorRatio', 'BastionLatencyP95High', 'BastionLatencyP99High', 'BastionInstanceDown', 'BastionNotReady', 'BastionDatabasePoolSaturated', 'BastionCacheHitRatioLow', 'BastionRateLimitRejectionsSpike']) {
      expect(quiet.has(name), name).toBe(true)
    }
  })

  it('checks the Alertmanager configuration and routes by severity', async () => {
    expect((await run('amtool', ['check-config', ALERTMANAGER])).stdout).toContain('SUCCESS')
    const route = async (...labels: string[]) => (await run('amtool', ['config', 'routes', 'test', `--config.file=${ALERTMANAGER}`, ...labels])).stdout.trim()
    expect(await route('alertname=BastionInstanceDown', 'severity=critical')).toBe('oncall-pager')
    expect(await route('alertname=BastionEventLoopLag', 'severity=warning')).toBe('team-tickets')
  })
})

it('gives every alert a severity, a summary and a runbook section, and every runbook section an alert', () => {
  const runbooks = readFileSync(join(ROOT, 'docs/runbooks.md'), 'utf8')
  const anchors = [...runbooks.matchAll(/^## (\S+)$/gm)].map((m) => m[1].toLowerCase())
  for (const rule of rules) {
    expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity)
    expect(rule.annotations?.summary, rule.alert).toBeTruthy()
    expect(rule.annotations?.runbook_url, rule.alert).toMatch(new RegExp(`/docs/runbooks\\.md#${rule.alert.toLowerCase()}$`))
  }
  // the exporters' alerts (database.yml) have their sections too: exporters.test.ts checks those
  const exporterAlerts = new Set(readFileSync(join(PROMETHEUS, 'database.yml'), 'utf8').match(/(?<=- alert: )\w+/g)!.map((a) => a.toLowerCase()))
  expect(anchors.filter((a) => !exporterAlerts.has(a)).sort()).toEqual(rules.map((r) => r.alert.toLowerCase()).sort())
})

it('uses the provisioned data source in every dashboard panel', () => {
  const provisioned = parseYaml(readFileSync(join(ROOT, 'docker/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string, url: string }> }
  expect(provisioned.datasources.map((d) => [d.uid, d.url])).toEqual([['prometheus', 'http://prometheus:9090']])
  expect(panels.length).toBeGreaterThanOrEqual(15)
  for (const p of panels) {
    expect(p.datasource?.uid, p.title).toBe('prometheus')
    expect(p.targets?.length, p.title).toBeGreaterThan(0)
  }
})

describe('against a running app after real traffic', () => {
  let db: TestDatabase
  let app: App
  let appPort: number
  let families: Map<string, Family>
  const METRICS_TOKEN = 'scrape-token-0123456789'
  beforeAll(async () => {
    db = await createTestDatabase()
    app = await buildTestApp(db.url, { METRICS_TOKEN })
    await app.listen({ host: '127.0.0.1', port: 0 })
    appPort = (app.server.address() as { port: number }).port
    await gql(app, 'query Home { users(limit: 3) { id name email posts(limit: 2) { id author { id } } } }', { token: token('1') })
    await gql(app, 'query Bad { users(limit: 0) { id } }')
    await gql(app, '{ nope }')
    await app.inject('/nope')
    const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    expect(res.statusCode).toBe(200)
    families = parseMetrics(res.body)
  })
  afterAll(async () => {
    await app?.close()
    await db?.drop()
  })

  it('serves every metric the dashboard and the alert rules use', () => {
    // the exporters' series (the dashboard's database, Redis and host rows): exporters.test.ts
    const used = new Set([...dashboardExprs, ...rules.map((r) => r.expr)].flatMap(metricNames).filter((name) => !EXPORTER_METRIC.test(name)))
    // `up` is Prometheus's own, written per target; the real scrape below checks it
    used.delete('up')
    expect(used.size).toBeGreaterThanOrEqual(15)
    const missing = [...used].filter((name) => !familyOf(families, name))
    expect(missing).toEqual([])
    // a _bucket/_count suffix is only used on a histogram
    for (const name of used) {
      if (/_(bucket|count|sum)$/.test(name) && !families.has(name)) expect(familyOf(families, name)?.type, name).toBe('histogram')
    }
    expect(families.get('bastion_ready')?.samples.map((s) => s.value)).toEqual([1])
  })

  it.skipIf(SKIP !== '')(`is scraped by the real Prometheus, which evaluates every rule and runs every dashboard query${SKIP}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-prom-'))
    const port = await freePort()
    writeFileSync(join(dir, 'token'), METRICS_TOKEN)
    // the shipped rules; the scrape target is this app instead of the compose service
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: ["${join(PROMETHEUS, 'alerts.yml')}"]`,
      'scrape_configs:',
      '  - job_name: bastion',
      `    authorization: { type: Bearer, credentials_file: "${join(dir, 'token')}" }`,
      `    static_configs: [{ targets: ["127.0.0.1:${appPort}"] }]`
    ].join('\n'))
    const prometheus = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'
    ], { stdio: 'ignore' })
    const api = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/${path}`)
      return await res.json() as { status: string, data: any, error?: string }
    }
    try {
      let up: string | undefined
      for (const end = Date.now() + 30_000; up !== '1'; await new Promise((resolve) => setTimeout(resolve, 250))) {
        if (Date.now() > end) throw new Error('Prometheus did not scrape the app within 30 s')
        up = await api('query?query=up%7Bjob%3D%22bastion%22%7D').then((r) => r.data?.result?.[0]?.value?.[1], () => undefined)
      }
      const count = await api(`query?query=${encodeURIComponent('sum(http_requests_total{job="bastion", route="/graphql"})')}`)
      expect(Number(count.data.result[0].value[1])).toBeGreaterThanOrEqual(2)
      // every rule evaluated at least once, without an error
      let health: Array<{ name: string, health: string, lastError?: string }> = []
      for (const end = Date.now() + 15_000; health.length < rules.length || health.some((r) => r.health !== 'ok'); await new Promise((resolve) => setTimeout(resolve, 250))) {
        if (Date.now() > end) throw new Error(`rules not all evaluated: ${JSON.stringify(health)}`)
        health = (await api('rules')).data.groups.flatMap((g: { rules: typeof health }) => g.rules)
      }
      expect(health.map((r) => [r.name, r.health]).sort()).toEqual(rules.map((r) => [r.alert, 'ok']).sort())
      // the dashboard's queries parse and run (Grafana's variables as Grafana would fill them)
      for (const expr of dashboardExprs) {
        const result = await api(`query?query=${encodeURIComponent(expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*'))}`)
        expect([expr, result.status, result.error]).toEqual([expr, 'success', undefined])
      }
    } finally {
      prometheus.kill('SIGTERM')
      if (prometheus.exitCode === null) await once(prometheus, 'exit')
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
