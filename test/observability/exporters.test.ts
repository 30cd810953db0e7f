// The exporters beside the app and their alerts: promtool checks database.yml and runs its unit
// tests; every alert has a runbook section; then Debian's real postgres_exporter (with the shipped
// queries.yaml, on a test database), redis_exporter (the test Redis, read-only commands) and
// node_exporter (with a backup textfile as backup.sh writes it) are scraped by a real Prometheus,
// which evaluates every rule: no error, and every series a rule or a dashboard panel names exists.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { ROOT } from '../../src/paths.js'
import { createTestDatabase, type TestDatabase } from '../helpers/app.js'
import { freePort, waitUntil } from '../helpers/faults.js'
import { REQUIRE_SERVICES, TEST_REDIS_URL } from '../helpers/services.js'
import { EXPORTER_METRIC, metricNames } from './promql.js'

const run = promisify(execFile)
const TOOLS = ['promtool', 'prometheus', 'prometheus-postgres-exporter', 'prometheus-redis-exporter', 'prometheus-node-exporter']
const MISSING = TOOLS.filter((tool) => !(process.env.PATH ?? '').split(delimiter).some((dir) => existsSync(join(dir, tool))))
const INSTALL = 'apt-get install prometheus prometheus-postgres-exporter prometheus-redis-exporter prometheus-node-exporter'
if (MISSING.length > 0 && REQUIRE_SERVICES) throw new Error(`REQUIRE_SERVICES=1 but ${MISSING.join(', ')} missing: ${INSTALL}`)
const SKIP = MISSING.length > 0 ? ` [skipped: needs ${MISSING.join(', ')}; ${INSTALL}]` : ''
const PROMETHEUS = join(ROOT, 'docker/prometheus')

interface Rule { alert: string, expr: string, labels?: Record<string, string>, annotations?: Record<string, string> }
const rules: Rule[] = (parseYaml(readFileSync(join(PROMETHEUS, 'database.yml'), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules)
interface Panel { type: string, title: string, targets?: Array<{ expr: string }>, panels?: Panel[] }
const dashboard = JSON.parse(readFileSync(join(ROOT, 'docker/grafana/dashboards/bastion.json'), 'utf8')) as { panels: Panel[] }
const panelExprs = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).flatMap((p) => (p.targets ?? []).map((t) => t.expr))
const exporterPanelExprs = panelExprs.filter((e) => metricNames(e).some((n) => EXPORTER_METRIC.test(n)))

describe.skipIf(SKIP !== '')(`the exporters' alert rules${SKIP}`, () => {
  it('pass promtool check and the unit tests, each alert firing once and staying quiet once', async () => {
    expect((await run('promtool', ['check', 'rules', 'database.yml'], { cwd: PROMETHEUS })).stdout).toContain(`SUCCESS: ${rules.length} rules found`)
    expect((await run('promtool', ['test', 'rules', 'database.test.yml'], { cwd: PROMETHEUS })).stdout).toMatch(/database\.test\.yml\s+SUCCESS/)
    const tests = parseYaml(readFileSync(join(PROMETHEUS, 'database.test.yml'), 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string, exp_alerts: unknown[] }> }> }
    const cases = tests.tests.flatMap((t) => t.alert_rule_test)
    for (const rule of rules) {
      expect(cases.some((c) => c.alertname === rule.alert && c.exp_alerts.length > 0), `${rule.alert} fires`).toBe(true)
      expect(cases.some((c) => c.alertname === rule.alert && c.exp_alerts.length === 0), `${rule.alert} quiet`).toBe(true)
    }
  }, 90_000)
})

it('gives every exporter alert a severity, a summary and a runbook section, and Prometheus loads the rules', () => {
  const runbooks = readFileSync(join(ROOT, 'docs/runbooks.md'), 'utf8')
  const anchors = new Set([...runbooks.matchAll(/^## (\S+)$/gm)].map((m) => m[1].toLowerCase()))
  expect(rules.map((r) => r.alert).sort()).toEqual(['BackupTooOld', 'HostDiskWillFillIn24h', 'PostgresAutovacuumNotRunning', 'PostgresConnectionsNearMax', 'PostgresDeadTuplesPilingUp', 'PostgresReplicationLagHigh', 'PostgresWalArchivingFailing', 'RedisMemoryNearMax'])
  for (const rule of rules) {
    expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity)
    expect(rule.annotations?.summary, rule.alert).toBeTruthy()
    expect(rule.annotations?.runbook_url, rule.alert).toMatch(new RegExp(`/docs/runbooks\\.md#${rule.alert.toLowerCase()}$`))
    expect(anchors.has(rule.alert.toLowerCase()), rule.alert).toBe(true)
  }
  const config = parseYaml(readFileSync(join(PROMETHEUS, 'prometheus.yml'), 'utf8')) as { rule_files: string[], scrape_configs: Array<{ job_name: string }> }
  expect(config.rule_files).toContain('database.yml')
  expect(config.scrape_configs.map((s) => s.job_name)).toEqual(expect.arrayContaining(['postgres', 'redis', 'node']))
  // the dashboard has rows for them
  expect(exporterPanelExprs.length).toBeGreaterThanOrEqual(8)
})

describe.skipIf(SKIP !== '')(`the real exporters, scraped by the real Prometheus${SKIP}`, () => {
  let db: TestDatabase
  let dir: string
  const children: ChildProcess[] = []
  let api: (path: string) => Promise<{ status: string, data: any, error?: string }>

  const start = (cmd: string, args: string[], env: Record<string, string> = {}) => {
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH, ...env }, stdio: 'ignore' })
    children.push(child)
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    dir = mkdtempSync(join(tmpdir(), 'bastion-exporters-'))
    const ports = { prometheus: await freePort(), postgres: await freePort(), redis: await freePort(), node: await freePort() }
    const textfiles = join(dir, 'textfile')
    mkdirSync(textfiles)
    // what docker/pgbackrest/backup.sh writes after a backup (the drill checks the script writes it)
    writeFileSync(join(textfiles, 'bastion_backup_incr.prom'), `backup_last_success_timestamp_seconds{stanza="bastion",type="incr"} ${Math.floor(Date.now() / 1000)}\n`)
    const dsn = new URL(db.url)
    dsn.searchParams.set('sslmode', 'disable')
    start('prometheus-postgres-exporter', [`--web.listen-address=127.0.0.1:${ports.postgres}`, `--extend.query-path=${join(PROMETHEUS, 'postgres-exporter/queries.yaml')}`], { DATA_SOURCE_NAME: dsn.toString() })
    start('prometheus-redis-exporter', [`--redis.addr=${TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}`, `--web.listen-address=127.0.0.1:${ports.redis}`])
    start('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${ports.node}`, `--collector.textfile.directory=${textfiles}`])
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: ["${join(PROMETHEUS, 'database.yml')}"]`,
      'scrape_configs:',
      ...(['postgres', 'redis', 'node'] as const).map((job) => `  - { job_name: ${job}, static_configs: [{ targets: ["127.0.0.1:${ports[job]}"] }] }`)
    ].join('\n'))
    start('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${ports.prometheus}`, '--log.level=warn'])
    api = async (path: string) => await (await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/${path}`)).json() as { status: string, data: any, error?: string }
    const query = async (q: string) => await api(`query?query=${encodeURIComponent(q)}`)
    // every exporter up, and its own success gauge at 1 (a scrape that reaches no database is still `up`)
    await waitUntil(async () => {
      const up = await query('min(up) == 1 and count(up) == 3 and on() pg_up == 1 and on() redis_up == 1').catch(() => undefined)
      return (up?.data?.result?.length ?? 0) > 0
    }, 60_000, 250)
  }, 90_000)

  afterAll(async () => {
    for (const child of children) {
      child.kill('SIGTERM')
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
    }
    await db?.drop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('evaluates every rule without an error', async () => {
    let health: Array<{ name: string, health: string, lastError?: string }> = []
    await waitUntil(async () => {
      health = (await api('rules')).data.groups.flatMap((g: { rules: typeof health }) => g.rules)
      return health.length === rules.length && health.every((r) => r.health === 'ok')
    }, 20_000, 250).catch(() => { throw new Error(`rules not all evaluated: ${JSON.stringify(health)}`) })
    expect(health.map((r) => [r.name, r.health]).sort()).toEqual(rules.map((r) => [r.alert, 'ok']).sort())
    for (const rule of rules) {
      const result = await api(`query?query=${encodeURIComponent(rule.expr)}`)
      expect([rule.alert, result.status, result.error]).toEqual([rule.alert, 'success', undefined])
    }
  }, 40_000)

  it('scrapes every series the rules and the dashboard\'s exporter rows name', async () => {
    const names = new Set([...rules.map((r) => r.expr), ...exporterPanelExprs].flatMap(metricNames).filter((n) => EXPORTER_METRIC.test(n)))
    expect(names).toContain('pg_stat_user_tables_n_dead_tup')
    const missing: string[] = []
    for (const name of names) {
      const result = await api(`query?query=${encodeURIComponent(`count({__name__="${name}"})`)}`)
      if (!(Number(result.data?.result?.[0]?.value?.[1]) > 0)) missing.push(name)
    }
    expect(missing).toEqual([])
    // the tables of the test database, through queries.yaml
    const posts = await api(`query?query=${encodeURIComponent('pg_stat_user_tables_n_live_tup{relname="posts"}')}`)
    expect(posts.data.result.length).toBe(1)
    for (const expr of exporterPanelExprs) {
      const result = await api(`query?query=${encodeURIComponent(expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*'))}`)
      expect([expr, result.status, result.error]).toEqual([expr, 'success', undefined])
    }
  }, 40_000)
})
