// Backups, maintenance and exporters as deployed, without Docker or a cluster: compose, the
// Kubernetes manifests, docker/pgbackrest (its configuration, scripts and Dockerfile) and
// prometheus.yml must agree with each other (stanza, paths, volumes, schedules, targets).
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../../src/paths.js'
import { build, type Resource } from './kustomize.js'

const run = promisify(execFile)
const DOCKER = join(ROOT, 'docker')
const services = parse(readFileSync(join(DOCKER, 'compose.yaml'), 'utf8'), { merge: true }).services as Record<string, any>
const dockerfile = readFileSync(join(DOCKER, 'pgbackrest/Dockerfile'), 'utf8')

/** pgbackrest.conf as { section: { key: value } } */
function ini (text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {}
  let section = ''
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue
    const header = /^\[(.+)\]$/.exec(line)
    if (header) { section = header[1]; out[section] = {}; continue }
    const [key, ...value] = line.split('=')
    out[section][key] = value.join('=')
  }
  return out
}
const conf = ini(readFileSync(join(DOCKER, 'pgbackrest/pgbackrest.conf'), 'utf8'))
const stanza = Object.keys(conf).find((s) => s !== 'global')!
const mounts = (name: string) => (services[name].volumes ?? []).map((v: string) => { const [source, target] = v.split(':'); return { source, target } })
const mountOf = (name: string, target: string) => mounts(name).find((m: { target: string }) => m.target === target)?.source
const setting = (name: string, key: string) => services[name].command.find((a: string) => a.startsWith(`${key}=`))?.slice(key.length + 1)

describe('docker/pgbackrest and the compose profiles', () => {
  it('keeps two repositories with retention by count, and scripts that parse', async () => {
    expect(stanza).toBe('bastion')
    for (const repo of ['repo1', 'repo2']) {
      expect(conf.global[`${repo}-path`], repo).toMatch(/^\//)
      expect(Number(conf.global[`${repo}-retention-full`]), repo).toBeGreaterThanOrEqual(2)
    }
    for (const script of ['backup.sh', 'maintenance.sh', 'schedule.sh', 'stanza-create.sh']) {
      await run('sh', ['-n', join(DOCKER, 'pgbackrest', script)])
      expect(dockerfile, script).toContain(script)
    }
  })

  it('archives every WAL segment of the compose server to the stanza, within a minute', () => {
    const pg = services.postgres
    expect(pg.build.context).toBe('./pgbackrest')
    expect(setting('postgres', 'archive_mode')).toBe('on')
    expect(setting('postgres', 'archive_command')).toBe(`pgbackrest --stanza=${stanza} archive-push %p`)
    expect(Number(setting('postgres', 'archive_timeout'))).toBeLessThanOrEqual(60)
    expect(mountOf('postgres', conf[stanza]['pg1-path'])).toBe('postgres-data')
    for (const repo of ['repo1', 'repo2']) expect(mountOf('postgres', conf.global[`${repo}-path`]), repo).toMatch(/^pgbackrest-repo[12]$/)
    expect(mountOf('postgres', conf.global['repo1-path'])).not.toBe(mountOf('postgres', conf.global['repo2-path']))
  })

  it('backs up on the server\'s data, socket and repositories under the pitr profile, and publishes the metric to node_exporter', () => {
    const b = services.pgbackrest
    expect(b.profiles).toEqual(['pitr'])
    expect(b.image).toBe(services.postgres.image)
    expect(b.command).toEqual(['schedule.sh', 'backup.sh', 'auto'])
    for (const path of [conf[stanza]['pg1-path'], conf[stanza]['pg1-socket-path'], conf.global['repo1-path'], conf.global['repo2-path']]) {
      expect(mountOf('pgbackrest', path), path).toBe(mountOf('postgres', path))
    }
    const metrics = mountOf('pgbackrest', b.environment.BACKUP_METRICS_DIR)
    expect(metrics).toBeDefined()
    const textfile = /--collector\.textfile\.directory=(\S+)/.exec(services['node-exporter'].command.join(' '))![1]
    expect(mountOf('node-exporter', textfile)).toBe(metrics)
  })

  it('runs maintenance as the owner under the maintenance profile', () => {
    const m = services.maintenance
    expect(m.profiles).toEqual(['maintenance'])
    expect(m.command).toEqual(['schedule.sh', 'maintenance.sh', 'auto'])
    expect(m.environment.MAINTENANCE_DATABASE_URL).toMatch(/^postgres:\/\/bastion:/)
  })

  it('scrapes the exporters that the monitoring profile runs, postgres_exporter with the shipped queries', () => {
    const prometheus = parse(readFileSync(join(DOCKER, 'prometheus/prometheus.yml'), 'utf8'))
    const targets = Object.fromEntries(prometheus.scrape_configs.map((s: any) => [s.job_name, s.static_configs?.[0]?.targets?.[0]]))
    expect(targets).toMatchObject({ postgres: 'postgres-exporter:9187', redis: 'redis-exporter:9121', node: 'node-exporter:9100' })
    for (const name of ['postgres-exporter', 'redis-exporter', 'node-exporter']) expect(services[name].profiles, name).toEqual(['monitoring'])
    const queryPath = /--extend\.query-path=(\S+)/.exec(services['postgres-exporter'].command.join(' '))![1]
    expect(mountOf('postgres-exporter', queryPath)).toBe('./prometheus/postgres-exporter/queries.yaml')
    expect(services['postgres-exporter'].environment.DATA_SOURCE_NAME).toMatch(/^postgres:\/\/bastion_monitor:/)
  })
})

describe.each(['base', 'overlays/production'])('docker/k8s/%s: backups, maintenance, exporters', (dir) => {
  const resources = build(join(DOCKER, 'k8s', dir))
  const named = (kind: string, name: string) => resources.find((r) => r.kind === kind && r.metadata.name === name) as Resource
  const container = (name: string) => named('CronJob', name).spec.jobTemplate.spec.template.spec.containers[0]

  it('backs up fully every week and incrementally on the other days, into two repositories', () => {
    const full = named('CronJob', 'bastion-pgbackrest-full')
    const incr = named('CronJob', 'bastion-pgbackrest-incr')
    expect(full.spec.schedule.split(' ').slice(2)).toEqual(['*', '*', '0'])
    expect(incr.spec.schedule.split(' ').slice(2)).toEqual(['*', '*', '1-6'])
    expect(container('bastion-pgbackrest-full').command).toEqual(['backup.sh', 'full'])
    expect(container('bastion-pgbackrest-incr').command).toEqual(['backup.sh', 'incr'])
    const k8sConf = ini(named('ConfigMap', 'bastion-pgbackrest').data['pgbackrest.conf'])
    expect(Object.keys(k8sConf)).toEqual(['global', stanza])
    for (const repo of ['repo1', 'repo2']) {
      expect(k8sConf.global[`${repo}-type`]).toBe('s3')
      expect(Number(k8sConf.global[`${repo}-retention-full`])).toBeGreaterThanOrEqual(2)
      // the encryption passphrase and keys come from the Secret, never the ConfigMap
      expect(Object.keys(k8sConf.global).filter((k) => /key|pass/.test(k))).toEqual([])
      expect(container('bastion-pgbackrest-full').env.map((e: any) => e.name)).toEqual(expect.arrayContaining([`PGBACKREST_${repo.toUpperCase()}_CIPHER_PASS`, `PGBACKREST_${repo.toUpperCase()}_S3_KEY`]))
    }
    expect(k8sConf.global['repo1-s3-region']).not.toBe(k8sConf.global['repo2-s3-region'])
    const c = container('bastion-pgbackrest-full')
    const configPath = c.env.find((e: any) => e.name === 'PGBACKREST_CONFIG').value
    expect(c.volumeMounts).toContainEqual(expect.objectContaining({ mountPath: configPath, subPath: 'pgbackrest.conf' }))
  })

  it('vacuums weekly and reindexes monthly as the owner', () => {
    expect(named('CronJob', 'bastion-vacuum').spec.schedule.split(' ').slice(2)).toEqual(['*', '*', '0'])
    expect(named('CronJob', 'bastion-reindex').spec.schedule.split(' ').slice(2)).toEqual(['1', '*', '*'])
    for (const [name, mode] of [['bastion-vacuum', 'vacuum'], ['bastion-reindex', 'reindex']]) {
      expect(container(name).command).toEqual(['maintenance.sh', mode])
      expect(container(name).env).toContainEqual({ name: 'MAINTENANCE_DATABASE_URL', valueFrom: { secretKeyRef: { name: 'bastion-secrets', key: 'MIGRATION_DATABASE_URL' } } })
    }
  })

  it('runs the image built from docker/pgbackrest, and the exporters with the shipped queries', () => {
    for (const name of ['bastion-pgbackrest-full', 'bastion-pgbackrest-incr', 'bastion-vacuum', 'bastion-reindex']) {
      expect(container(name).image, name).toMatch(dir === 'base' ? /^bastion-postgres$/ : /^[\w.-]+(\/[\w.-]+)*\/bastion-postgres:[\w.-]+$/)
    }
    expect(named('ConfigMap', 'bastion-postgres-exporter-queries').data['queries.yaml']).toBe(readFileSync(join(DOCKER, 'prometheus/postgres-exporter/queries.yaml'), 'utf8'))
    const exporter = named('Deployment', 'bastion-postgres-exporter').spec.template
    expect(exporter.spec.containers[0].image).toBe(services['postgres-exporter'].image)
    expect(exporter.metadata.annotations['prometheus.io/port']).toBe(String(exporter.spec.containers[0].ports[0].containerPort))
    expect(named('DaemonSet', 'bastion-node-exporter').spec.template.spec.containers[0].image).toBe(services['node-exporter'].image)
    expect(named('Deployment', 'bastion-redis-exporter').spec.template.spec.containers[0].image).toBe(services['redis-exporter'].image)
  })
})
