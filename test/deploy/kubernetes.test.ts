// docker/k8s without a cluster: each overlay built (kustomize.ts, compared with `kubectl kustomize`
// where kubectl is installed), every resource validated against the Kubernetes schemas
// (kubernetes-models), then cross-checked against the app: variables, routes, port, grace
// periods, commands, selectors, connection budget.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as models from 'kubernetes-models'
import { parseAllDocuments } from 'yaml'
import { describe, expect, it } from 'vitest'
import { loadConfig, schema } from '../../src/config.js'
import { ROOT } from '../../src/paths.js'
import { envOf, parseDockerfile } from './dockerfile.js'
import { build, readYamlDocuments, type Resource } from './kustomize.js'

const K8S = join(ROOT, 'docker/k8s')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
const imageEnv = envOf(parseDockerfile().stage('runtime'))
const secret = readYamlDocuments(join(K8S, 'base/secret.example.yaml'))[0] as Resource
// the pgBackRest CronJobs' and the exporters' Secrets (pitr.test.ts checks those resources)
const secrets = [secret, ...readYamlDocuments(join(K8S, 'base/recovery-secrets.example.yaml'))] as Resource[]
const kustomizeVersion = (() => {
  try { return Number(/Kustomize Version: v(\d+)/.exec(execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8' }))?.[1] ?? 0) } catch { return 0 }
})()

function validate (r: Resource) {
  const [group, version] = r.apiVersion.includes('/') ? r.apiVersion.split('/') : ['', r.apiVersion]
  // networking.k8s.io/v1 -> models.networkingK8sIo.v1; v1 -> models.v1
  const ns = group ? group.split('.').map((p, i) => (i === 0 ? p : p[0].toUpperCase() + p.slice(1))).join('') : version
  const Kind = (group ? (models as any)[ns]?.[version] : (models as any)[ns])?.[r.kind]
  if (!Kind) throw new Error(`no schema for ${r.apiVersion} ${r.kind}`)
  new Kind(r).validate()
}

const mebibytes = (q: string) => Number(/^(\d+)Mi$/.exec(q)![1]) * 1024 * 1024
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels?.[k] === v)
const podSpec = (r: Resource) => (r.kind === 'CronJob' ? r.spec.jobTemplate.spec.template.spec : r.spec.template.spec)

it('rejects what the Kubernetes schema rejects (the validation is real)', () => {
  const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'x', ports: [{ containerPort: 'http' }] }] } } } }
  expect(() => validate(bad as Resource)).toThrow(/containerPort/)
})

describe.each(['base', 'overlays/staging', 'overlays/production'])('docker/k8s/%s', (dir) => {
  const resources = build(join(K8S, dir))
  const one = (kind: string, name?: string) => resources.find((r) => r.kind === kind && (!name || r.metadata.name === name))!
  const deployment = one('Deployment')
  const configMap = one('ConfigMap', 'bastion-config')
  const config = loadConfig({ ...imageEnv, ...configMap.data, ...secret.stringData })
  const container = deployment.spec.template.spec.containers[0]

  it('builds to valid Kubernetes objects of the expected kinds', () => {
    for (const r of [...resources, ...secrets]) expect(() => validate(r), `${r.kind}/${r.metadata.name}`).not.toThrow()
    // the app's, then pgBackRest's and maintenance's CronJobs (4) and the exporters (pitr.test.ts)
    const kinds = ['ConfigMap', 'CronJob', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'NetworkPolicy', 'PersistentVolumeClaim', 'PodDisruptionBudget', 'Service',
      'ConfigMap', 'ConfigMap', 'CronJob', 'CronJob', 'CronJob', 'CronJob', 'DaemonSet', 'Deployment', 'Deployment', 'NetworkPolicy']
    expect(resources.map((r) => r.kind).sort()).toEqual((dir.endsWith('production') ? [...kinds, 'Ingress'] : kinds).sort())
    if (dir !== 'base') expect(new Set(resources.map((r) => r.metadata.namespace)).size).toBe(1)
  })

  it.skipIf(kustomizeVersion < 4)('builds as `kubectl kustomize` does (where kubectl with Kustomize >= 4 is installed)', () => {
    const key = (r: Resource) => `${r.kind}/${r.metadata.name}`
    const theirs = parseAllDocuments(execFileSync('kubectl', ['kustomize', join(K8S, dir)], { encoding: 'utf8' })).map((d) => d.toJS() as Resource)
    expect(Object.fromEntries(resources.map((r) => [key(r), r]))).toEqual(Object.fromEntries(theirs.map((r) => [key(r), r])))
  })

  it('sets only variables of the config schema, which production accepts, and refers only to keys that exist', () => {
    for (const key of [...Object.keys(configMap.data), ...Object.keys(secret.stringData)]) expect(Object.keys(schema.shape)).toContain(key)
    expect(config.isProduction).toBe(true)
    for (const r of resources.filter((x) => ['Deployment', 'Job', 'CronJob'].includes(x.kind))) {
      for (const c of podSpec(r).containers) {
        for (const from of c.envFrom ?? []) expect([from.configMapRef?.name, from.secretRef?.name]).toContain(from.configMapRef ? 'bastion-config' : secret.metadata.name)
        for (const e of c.env ?? []) if (e.valueFrom) expect(Object.keys(secrets.find((x) => x.metadata.name === e.valueFrom.secretKeyRef.name)?.stringData ?? {}), `${r.metadata.name} ${e.name}`).toContain(e.valueFrom.secretKeyRef.key)
      }
    }
  })

  it('probes the app\'s routes on its port, and drains before the kubelet kills it', () => {
    expect(container.ports).toEqual([{ name: 'http', containerPort: config.PORT }])
    expect(container.startupProbe.httpGet).toEqual({ path: '/health', port: 'http' })
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' })
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' })
    expect(container.readinessProbe.timeoutSeconds * 1000).toBeGreaterThan(config.READY_CHECK_TIMEOUT_MS)
    const [sleep, preStop] = container.lifecycle.preStop.exec.command
    expect(sleep).toBe('sleep')
    const grace = deployment.spec.template.spec.terminationGracePeriodSeconds
    expect(grace * 1000).toBeGreaterThan(Number(preStop) * 1000 + config.SHUTDOWN_DELAY_MS + config.SHUTDOWN_GRACE_MS)
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(config.PORT))
  })

  it('runs every container non-root, read-only, without capabilities, under seccomp, with resources', () => {
    for (const r of resources.filter((x) => ['Deployment', 'Job', 'CronJob'].includes(x.kind))) {
      const spec = podSpec(r)
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } })
      expect(spec.automountServiceAccountToken).toBe(false)
      for (const c of spec.containers) {
        expect(c.securityContext, `${r.kind} ${c.name}`).toEqual({
          allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' }
        })
        expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) })
        expect(c.resources.limits.memory).toEqual(expect.any(String))
        expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' })
      }
    }
    expect(config.PRESSURE_MAX_RSS_BYTES).toBeGreaterThan(0.8 * mebibytes(container.resources.limits.memory))
    expect(config.PRESSURE_MAX_RSS_BYTES).toBeLessThan(mebibytes(container.resources.limits.memory))
  })

  it('runs the app image for the server and the migration, with the production migrate command', () => {
    const job = one('Job')
    expect(job.spec.template.spec.containers[0].image).toBe(container.image)
    expect(job.spec.template.spec.containers[0].command.join(' ')).toBe(pkg.scripts['migrate:prod'])
    expect(existsSync(join(ROOT, pkg.scripts['migrate:prod'].split(' ')[1].replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true)
    expect(job.spec.template.spec.restartPolicy).toBe('Never')
    if (dir === 'base') expect(container.image).toBe('bastion')
    else expect(container.image).toMatch(/^[\w.-]+(\/[\w.-]+)+:[\w.-]+$/)
  })

  it('can apply the migration and what it reads before the rollout, with the selector docs/deployment.md gives', () => {
    expect(readFileSync(join(ROOT, 'docs', 'deployment.md'), 'utf8')).toContain('kubectl apply -k docker/k8s/overlays/staging -l bastion/pre-rollout=true')
    const first = resources.filter((r) => r.metadata.labels?.['bastion/pre-rollout'] === 'true')
    expect(first.map((r) => r.kind).sort()).toEqual(['ConfigMap', 'Job'])
    expect(first.find((r) => r.kind === 'ConfigMap')!.metadata.name).toBe(one('Job').spec.template.spec.containers[0].envFrom[0].configMapRef.name)
  })

  it('backs up nightly with pg_dump -Fc as the owner, onto the claim it declares', () => {
    const cron = one('CronJob')
    const c = podSpec(cron).containers[0]
    expect(cron.spec.concurrencyPolicy).toBe('Forbid')
    expect(c.command.join(' ')).toMatch(/pg_dump --format=custom .*pg_restore --list/s)
    expect(c.env).toContainEqual({ name: 'BACKUP_DATABASE_URL', valueFrom: { secretKeyRef: { name: 'bastion-secrets', key: 'MIGRATION_DATABASE_URL' } } })
    const claim = podSpec(cron).volumes.find((v: any) => v.persistentVolumeClaim).persistentVolumeClaim.claimName
    expect(one('PersistentVolumeClaim', claim)).toBeDefined()
  })

  it('selects the server pods consistently and keeps the connection budget', () => {
    const pods = deployment.spec.template.metadata.labels
    expect(matches(deployment.spec.selector.matchLabels, pods)).toBe(true)
    expect(matches(one('Service').spec.selector, pods)).toBe(true)
    expect(one('Service').spec.ports).toEqual([{ name: 'http', port: config.PORT, targetPort: 'http' }])
    expect(matches(one('PodDisruptionBudget').spec.selector.matchLabels, pods)).toBe(true)
    const policy = one('NetworkPolicy')
    expect(matches(policy.spec.podSelector.matchLabels, pods)).toBe(true)
    expect(policy.spec.ingress.flatMap((r: any) => r.ports.map((p: any) => p.port))).toEqual([config.PORT])
    expect(policy.spec.egress.flatMap((r: any) => r.ports.map((p: any) => p.port))).toEqual(expect.arrayContaining([53, 5432, 6379]))
    const hpa = one('HorizontalPodAutoscaler')
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name })
    expect(hpa.spec.minReplicas).toBe(deployment.spec.replicas)
    if (dir === 'base') expect(deployment.spec.replicas).toBe(3)
    // at the HPA's maximum during a rollout, plus the migration: under PostgreSQL's default
    // max_connections (100) minus a reserve of 10 (superuser, backup, psql)
    const most = hpa.spec.maxReplicas + deployment.spec.strategy.rollingUpdate.maxSurge
    expect(most * config.DATABASE_POOL_MAX + 1).toBeLessThanOrEqual(90)
  })

  // only the production overlay has an Ingress (registered there only, so nothing shows as skipped)
  if (dir.endsWith('production')) it('serves /graphql only, over TLS from cert-manager', () => {
    const ingress = one('Ingress')
    expect(ingress.metadata.annotations?.['cert-manager.io/cluster-issuer']).toEqual(expect.any(String))
    const hosts = ingress.spec.rules.map((r: any) => r.host)
    expect(ingress.spec.tls).toEqual([{ hosts, secretName: expect.any(String) }])
    const paths = ingress.spec.rules.flatMap((r: any) => r.http.paths)
    expect(paths.map((p: any) => p.path)).toEqual(['/graphql'])
    for (const p of paths) expect(p.backend.service).toEqual({ name: one('Service').metadata.name, port: { name: one('Service').spec.ports[0].name } })
  })
})
