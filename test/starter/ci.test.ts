// The GitHub workflow is valid (the GitHub Actions schema, through @action-validator/core) and runs
// what .ci/run runs: the same npm commands in the same order, the same variables, the same tools.
// Dependabot covers every ecosystem the repository uses. No network, no GitHub: files only.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { validateWorkflow } from '@action-validator/core'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ROOT } from '../../src/paths.js'

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')
const workflowText = read('.github/workflows/ci.yml')
const workflow = parse(workflowText)
const ciRun = read('.ci/run')
const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>

interface Step { run?: string, uses?: string, with?: Record<string, unknown> }
const steps = (job: string): Step[] => workflow.jobs[job].steps
const runs = (job: string) => steps(job).flatMap((s) => s.run ?? [])

/** npm invocations in order, as `npm ci`, `npm test`, `npm run <script>` (flags dropped) */
function npmCommands (text: string): string[] {
  // commands only: not comments, not the messages of .ci/run's log()
  const code = text.split('\n').filter((l) => !l.trim().startsWith('#')).map((l) => l.replace(/\blog "[^"]*";?/g, '')).join('\n')
  return [...code.matchAll(/\bnpm (ci|test|run [\w:-]+|audit)\b/g)].map((m) => `npm ${m[1]}`)
}

describe('.github/workflows/ci.yml', () => {
  it('is valid against the GitHub Actions workflow schema', () => {
    expect(validateWorkflow(workflowText).errors).toEqual([])
    // the validator does catch mistakes (else the line above proves nothing)
    const broken = workflowText.replace(/timeout-minutes: 10/, 'timeout-minute: 10')
    expect(broken).not.toBe(workflowText)
    expect(validateWorkflow(broken).errors).not.toEqual([])
  })

  it('runs the npm commands of .ci/run, in the same order (npm test with coverage thresholds)', () => {
    const local = npmCommands(ciRun)
    expect(local).toEqual(['npm ci', 'npm run lint', 'npm run typecheck', 'npm test'])
    // test:coverage is the same suite plus the thresholds of vitest.config.ts
    expect(scripts['test:coverage']).toBe(`${scripts.test} --coverage`)
    const github = npmCommands(runs('test').join('\n')).map((c) => c === 'npm run test:coverage' ? 'npm test' : c)
    expect(github).toEqual(local)
    // and `npm ci` with the same flags
    expect(runs('test')).toContain(/^log "npm ci"; (npm ci[^\n]*)/m.exec(ciRun)![1])
  })

  it('sets the variables .ci/run exports, pointing at PostgreSQL and Redis service containers', () => {
    const exported = [...ciRun.matchAll(/^export (\w+)=/gm)].map((m) => m[1]).sort()
    const env = workflow.jobs.test.env as Record<string, string>
    expect(Object.keys(env).sort()).toEqual(exported)
    expect(env.REQUIRE_SERVICES).toBe(/^export REQUIRE_SERVICES=(\S+)/m.exec(ciRun)![1])
    const services = workflow.jobs.test.services as Record<string, { image: string }>
    expect(Object.keys(services).sort()).toEqual(['postgres', 'redis'])
    expect(new URL(env.TEST_DATABASE_URL).hostname).toBe('postgres')
    expect(new URL(env.TEST_REDIS_URL).hostname).toBe('redis')
    // the same server versions as the compose stack
    const compose = parse(read('docker/compose.yaml')).services as Record<string, { image: string, build?: { context: string } }>
    // compose builds its server from an official image plus pgBackRest (docker/pgbackrest/Dockerfile)
    const postgresBase = compose.postgres.build ? /^FROM (\S+)/m.exec(read(join('docker', compose.postgres.build.context, 'Dockerfile')))![1] : compose.postgres.image
    expect(services.postgres.image).toBe(postgresBase)
    expect(services.redis.image).toBe(compose.redis.image)
  })

  it('installs every Debian package that .ci/run installs for the tests', () => {
    const packages = [...ciRun.matchAll(/apt_install ([^;|&\n]+)/g)].flatMap((m) => m[1].trim().split(/\s+/))
      .filter((p) => p !== '"$@"')
    expect(packages.length).toBeGreaterThan(0)
    const installed = runs('test').join('\n').match(/apt-get install[^]*?(?=>\/dev\/null|$)/)![0].split(/[\s\\]+/)
    expect(packages.filter((p) => !installed.includes(p))).toEqual([])
  })

  it('builds the container image from docker/Dockerfile and gates on npm audit of production dependencies', () => {
    const build = steps('image').find((s) => s.uses?.startsWith('docker/build-push-action@'))
    expect(build?.with).toMatchObject({ context: '.', file: 'docker/Dockerfile', push: false })
    expect(existsSync(join(ROOT, 'docker/Dockerfile'))).toBe(true)
    expect(runs('audit')).toContain('npm audit --omit=dev --audit-level=high')
  })

  it('names only files the repository has (its comments included)', () => {
    // repository paths with an extension, or the Dockerfile; dist/ is built, actions are owner/name@v
    const named = [...new Set(workflowText.match(/(?<![\w./@-])(?:\.ci\/run|(?:\.github|src|test|scripts|docker|docs|bench|k6)\/[\w./-]*(?:\.\w+|Dockerfile))\b/g) ?? [])]
    expect(named).toContain('docker/Dockerfile')
    expect(named).toContain('test/starter/ci.test.ts')
    expect(named).toContain('.ci/run')
    expect(named.filter((path) => !existsSync(join(ROOT, path)))).toEqual([])
  })

  it('pins every action to a major version (Dependabot moves them)', () => {
    const uses = Object.keys(workflow.jobs).flatMap((job) => steps(job).flatMap((s) => s.uses ?? []))
    expect(uses.filter((u) => !/^[\w.-]+\/[\w.-]+@v\d+$/.test(u))).toEqual([])
  })
})

describe('.github/dependabot.yml', () => {
  const config = parse(read('.github/dependabot.yml'))
  const updates = config.updates as Array<{ 'package-ecosystem': string, directory: string, groups?: Record<string, unknown> }>
  const entry = (ecosystem: string) => updates.find((u) => u['package-ecosystem'] === ecosystem)

  it('covers npm, the Dockerfile, the compose images and the workflow actions, each grouped', () => {
    expect(config.version).toBe(2)
    expect(updates.map((u) => [u['package-ecosystem'], u.directory])).toEqual([
      ['npm', '/'], ['docker', '/docker'], ['docker-compose', '/docker'], ['github-actions', '/']
    ])
    for (const u of updates) expect(Object.keys(u.groups ?? {}).length, u['package-ecosystem']).toBeGreaterThan(0)
    // the manifests each entry reads are where it looks
    expect(existsSync(join(ROOT, entry('npm')!.directory, 'package-lock.json'))).toBe(true)
    expect(existsSync(join(ROOT, entry('docker')!.directory, 'Dockerfile'))).toBe(true)
    expect(existsSync(join(ROOT, entry('docker-compose')!.directory, 'compose.yaml'))).toBe(true)
  })

  it('can read the base image: every FROM in docker/Dockerfile names an image or an earlier stage, not an ARG', () => {
    // Dependabot does not resolve `FROM ${ARG}` (dependabot/dependabot-core#2057): such a base image never gets updates
    const froms = [...read('docker/Dockerfile').matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)]
    const stages = new Set<string>()
    const unreadable: string[] = []
    for (const [, image, stage] of froms) {
      if (!stages.has(image) && !/^[\w./-]+:[\w.-]+(@sha256:[a-f0-9]{64})?$/.test(image)) unreadable.push(image)
      if (stage) stages.add(stage)
    }
    expect(unreadable).toEqual([])
    // one base image, written in each stage that starts from it: an update must move them together
    expect(new Set(froms.map((m) => m[1]).filter((image) => !stages.has(image))).size).toBe(1)
  })
})
