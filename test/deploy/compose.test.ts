// docker/compose.yaml without a Docker engine: the compose schema and a few dclint rules, then
// cross-checks against the app (config schema, port, grace periods), the env file template, the
// Dockerfile, and the files the monitoring and k6 profiles mount.
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseEnv } from 'node:util'
import { DCLinter } from 'dclint'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { FILE_VARIABLES, loadConfig, schema } from '../../src/config.js'
import { ROOT } from '../../src/paths.js'
import { envOf, parseDockerfile } from './dockerfile.js'

const DOCKER = join(ROOT, 'docker')
const FILE = join(DOCKER, 'compose.yaml')
const text = readFileSync(FILE, 'utf8')
const compose = parse(text, { merge: true })
const services = compose.services as Record<string, any>
const example = parseEnv(readFileSync(join(DOCKER, '.env.example'), 'utf8'))
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
const imageEnv = envOf(parseDockerfile().stage('runtime'))
const SECRETS = new Set<string>([...FILE_VARIABLES])

/** compose's ${VAR}, ${VAR:-default}, ${VAR:?error} and $$, with `vars` as docker/.env */
function interpolate (value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\{(\w+)(?::([-?])([^}]*))?\}/g, (all, name: string, kind?: string, arg?: string) => {
    if (all === '$$') return '$'
    if (vars[name]) return vars[name]
    if (kind === '?') throw new Error(`${name}: ${arg}`)
    return kind === '-' ? arg! : ''
  })
}

/** docker/.env as a user fills it in: every required variable (${NAME:?...}) gets a random value */
const required = new Set([...text.matchAll(/\$\{(\w+):\?/g)].map((m) => m[1]))
const filled = Object.fromEntries(Object.entries(example).map(([k, v]) => [k, v || (required.has(k) ? randomBytes(24).toString('hex') : '')]))
const envOfService = (name: string) => Object.fromEntries(Object.entries(services[name].environment as Record<string, string>).map(([k, v]) => [k, interpolate(String(v), filled)]))
const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)![1])
const bytes = (m: string) => Number(/^(\d+)m$/i.exec(m)![1]) * 1024 * 1024
const mounts = (name: string) => (services[name].volumes ?? []).map((v: string) => { const [source, target] = v.split(':'); return { source, target } })

describe('docker/compose.yaml', () => {
  it('is valid against the compose schema and keeps the dclint rules that matter here', () => {
    const linter = new DCLinter({
      // style rules off (this file is ordered by the request path, not alphabetically); both
      // build and image on the app: the image is built once and shared by app and migrate
      rules: { 'service-keys-order': 0, 'services-alphabetical-order': 0, 'top-level-properties-order': 0, 'service-dependencies-alphabetical-order': 0, 'service-ports-alphabetical-order': 0, 'require-quotes-in-ports': 0, 'no-build-and-image': 0 } as never,
      quiet: false,
      debug: false,
      exclude: []
    })
    const [result] = linter.lintFiles([FILE], false)
    expect(result.messages).toEqual([])
  })

  it('takes every secret from docker/.env, which declares exactly the variables the file uses', () => {
    const used = new Set([...text.matchAll(/\$\{(\w+)/g)].map((m) => m[1]))
    expect([...used].sort()).toEqual(Object.keys(example).sort())
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries((service.environment ?? {}) as Record<string, string>)) {
        // a URL with credentials: its password is a required variable
        const password = /^\w+:\/\/[^:/@]*:([^@]*)@/.exec(String(value))?.[1]
        if (password !== undefined) expect(password, `${name}.${key}`).toMatch(/^\$\{\w+:\?[^}]*\}$/)
        else if (SECRETS.has(key as never) || /PASSWORD|SECRET|TOKEN/.test(key)) expect(String(value), `${name}.${key}`).toMatch(/^\$\{\w+(:[-?][^}]*)?\}$/)
      }
    }
  })

  it('configures app and migrate only with variables of the config schema, which production accepts', () => {
    for (const name of ['app', 'migrate']) {
      for (const key of Object.keys(services[name].environment)) expect(Object.keys(schema.shape), `${name}.${key}`).toContain(key)
      expect(() => loadConfig({ ...imageEnv, ...envOfService(name) }), name).not.toThrow()
    }
  })

  it('runs two app replicas behind nginx on the image port, read-only, within the memory limit and the database connections', () => {
    const app = services.app
    const config = loadConfig({ ...imageEnv, ...envOfService('app') })
    expect(app.deploy.replicas).toBe(2)
    expect(app.ports).toBeUndefined()
    expect(services.proxy.ports).toEqual([`127.0.0.1:${config.PORT}:8000`])
    const nginx = readFileSync(join(DOCKER, 'nginx/default.conf'), 'utf8')
    expect(nginx).toContain(`set $app http://app:${config.PORT};`)
    expect(nginx).toMatch(/^\s*listen 8000;/m)
    expect(mounts('proxy')).toEqual([{ source: './nginx/default.conf', target: '/etc/nginx/conf.d/default.conf' }])
    for (const name of ['app', 'migrate']) {
      expect(services[name]).toMatchObject({ read_only: true, tmpfs: ['/tmp'], cap_drop: ['ALL'], build: { context: '..', dockerfile: 'docker/Dockerfile' } })
      expect(resolve(DOCKER, services[name].build.context)).toBe(ROOT)
    }
    expect(config.PRESSURE_MAX_RSS_BYTES).toBeGreaterThan(0)
    expect(config.PRESSURE_MAX_RSS_BYTES).toBeLessThan(bytes(app.deploy.resources.limits.memory))
    // PostgreSQL's default max_connections (100) minus a reserve of 10 (superuser, migrate, backup, psql)
    expect(app.deploy.replicas * config.DATABASE_POOL_MAX + 1).toBeLessThanOrEqual(90)
    // compose's SIGKILL comes after the app's own drain delay and hard stop
    expect(seconds(app.stop_grace_period) * 1000).toBeGreaterThan(config.SHUTDOWN_DELAY_MS + config.SHUTDOWN_GRACE_MS)
  })

  it('migrates once, as the owner, before any app replica starts', () => {
    expect(services.migrate.command.join(' ')).toBe(pkg.scripts['migrate:prod'])
    expect(services.migrate.restart).toBe('no')
    expect(envOfService('migrate').MIGRATION_DATABASE_URL).toMatch(/^postgres:\/\/bastion:/)
    expect(envOfService('app').DATABASE_URL).toMatch(/^postgres:\/\/bastion_app:/)
    expect(envOfService('app').MIGRATION_DATABASE_URL).toBeUndefined()
    expect(services.app.depends_on).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' }
    })
    expect(services.postgres.environment.APP_DB_USER).toBe('bastion_app')
    expect(mounts('postgres')).toContainEqual({ source: './postgres/init-app-role.sh', target: '/docker-entrypoint-initdb.d/10-app-role.sh' })
  })

  it('gives PostgreSQL and Redis health checks and named volumes', () => {
    for (const name of ['postgres', 'redis']) {
      expect(services[name].healthcheck.test[0]).toMatch(/^CMD/)
      const named = mounts(name).filter((m: { source: string }) => !m.source.startsWith('.'))
      // the data volume first; postgres also has pgBackRest's repositories and its socket directory
      expect(named[0].target, name).toBe(name === 'postgres' ? '/var/lib/postgresql/data' : '/data')
      for (const m of named) expect(Object.keys(compose.volumes), `${name} ${m.source}`).toContain(m.source)
    }
  })

  it('runs Prometheus, Alertmanager and Grafana under the monitoring profile, on files that exist', () => {
    const expected: Record<string, string[]> = {
      prometheus: ['./prometheus/prometheus.yml', './prometheus/alerts.yml', './prometheus/database.yml'],
      alertmanager: ['./alertmanager/alertmanager.yml'],
      'postgres-exporter': ['./prometheus/postgres-exporter/queries.yaml'],
      'redis-exporter': [],
      'node-exporter': [],
      grafana: ['./grafana/provisioning', './grafana/dashboards']
    }
    for (const [name, files] of Object.entries(expected)) {
      expect(services[name].profiles).toEqual(['monitoring'])
      const binds = mounts(name).filter((m: { source: string }) => m.source.startsWith('.'))
      expect(binds.map((m: { source: string }) => m.source)).toEqual(files)
      for (const f of files) expect(existsSync(join(DOCKER, f)), `docker/${f}`).toBe(true)
    }
  })

  it('points Prometheus and Grafana at the services and paths this file gives them', () => {
    const prometheus = parse(readFileSync(join(DOCKER, 'prometheus/prometheus.yml'), 'utf8'))
    const sd = prometheus.scrape_configs.flatMap((s: any) => s.dns_sd_configs ?? [])
    expect(sd).toContainEqual(expect.objectContaining({ names: ['app'], port: Number(imageEnv.PORT) }))
    const ruleTargets = mounts('prometheus').map((m: { target: string }) => m.target)
    for (const rules of prometheus.rule_files) expect(ruleTargets).toContain(resolve('/etc/prometheus', rules))
    expect(prometheus.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager:9093'])
    expect(services.alertmanager.ports).toEqual(['127.0.0.1:9093:9093'])

    const provisioning = join(DOCKER, 'grafana/provisioning')
    const dashboards = readdirSync(join(provisioning, 'dashboards')).filter((f) => /\.ya?ml$/.test(f))
    expect(dashboards.length).toBeGreaterThan(0)
    const target = mounts('grafana').find((m: { source: string }) => m.source === './grafana/dashboards').target
    for (const f of dashboards) {
      for (const provider of parse(readFileSync(join(provisioning, 'dashboards', f), 'utf8')).providers) expect(provider.options.path).toBe(target)
    }
    const datasources = readdirSync(join(provisioning, 'datasources')).filter((f) => /\.ya?ml$/.test(f))
    const urls = datasources.flatMap((f) => parse(readFileSync(join(provisioning, 'datasources', f), 'utf8')).datasources.map((d: any) => d.url))
    expect(urls).toContain('http://prometheus:9090')
  })

  it('runs the k6 load suite against the proxy under the k6 profile', () => {
    const k6 = services.k6
    expect(k6.profiles).toEqual(['k6'])
    expect(k6.image).toMatch(/^grafana\/k6:\d+\.\d+\.\d+$/)
    expect(k6.command).toEqual(['run', '/scripts/load.js'])
    expect(mounts('k6')).toEqual([{ source: '../k6', target: '/scripts' }])
    expect(existsSync(join(ROOT, 'k6/load.js'))).toBe(true)
    expect(envOfService('k6').BASE_URL).toBe('http://proxy:8000')
    expect(k6.environment.TOKEN).toBe('${TOKEN:-}')
  })

  it('dumps in the custom format that npm run restore reads, under the backup profile', () => {
    expect(services.backup.profiles).toEqual(['backup'])
    expect(services.backup.command.join(' ')).toContain('pg_dump --format=custom')
    // pg_dump of the server's major: the image the server's own (docker/pgbackrest/Dockerfile) is built from
    expect(services.postgres.build.context).toBe('./pgbackrest')
    expect(services.backup.image).toBe(/^FROM (\S+)/m.exec(readFileSync(join(DOCKER, 'pgbackrest/Dockerfile'), 'utf8'))![1])
  })
})
