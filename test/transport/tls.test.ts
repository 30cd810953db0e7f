// TLS to PostgreSQL and Redis, against private servers that accept TLS only, with a certificate
// authority and server certificate made here (openssl). The shared servers are never touched.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { chownSync, chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { connectionConfig } from '../../src/db/connection.js'
import { migrate } from '../../src/db/migrate.js'
import { createRedis } from '../../src/plugins/redis.js'
import { buildTestApp, gql } from '../helpers/app.js'
import { freePort, waitUntil } from '../helpers/faults.js'

const run = promisify(execFile)
// the newest installed server (Debian keeps each major version under its own directory)
const PG_BIN = `/usr/lib/postgresql/${readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))[0]}/bin`
const asPostgres = process.getuid?.() === 0

/** a CA, a server certificate it signed for 127.0.0.1 and localhost, and an unrelated CA */
async function makeCertificates (dir: string) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await run('openssl', ['req', '-x509', ...ec, '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-days', '1', '-subj', '/CN=bastion test CA'])
  await run('openssl', ['req', '-x509', ...ec, '-keyout', join(dir, 'other.key'), '-out', join(dir, 'other.crt'), '-days', '1', '-subj', '/CN=someone else'])
  await run('openssl', ['req', ...ec, '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.csr'), '-subj', '/CN=127.0.0.1'])
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\n')
  await run('openssl', ['x509', '-req', '-in', join(dir, 'server.csr'), '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'),
    '-CAcreateserial', '-out', join(dir, 'server.crt'), '-days', '1', '-extfile', join(dir, 'san.cnf')])
  return { ca: join(dir, 'ca.crt'), other: join(dir, 'other.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') }
}

describe('TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-tls-'))
  const data = join(dir, 'data')
  let certs: Awaited<ReturnType<typeof makeCertificates>>
  let pgPort: number
  let redisPort: number
  let redis: ChildProcess | undefined
  const pgRun = (cmd: string, args: string[]) => asPostgres
    ? run('runuser', ['-u', 'postgres', '--', join(PG_BIN, cmd), ...args])
    : run(join(PG_BIN, cmd), args)
  const url = (sslmode: string) => `postgres://postgres@127.0.0.1:${pgPort}/postgres?sslmode=${sslmode}`

  beforeAll(async () => {
    certs = await makeCertificates(dir)
    ;[pgPort, redisPort] = [await freePort(), await freePort()]
    // PostgreSQL: ssl=on, and pg_hba refuses every connection that is not TLS
    const [uid, gid] = asPostgres ? [Number((await run('id', ['-u', 'postgres'])).stdout), Number((await run('id', ['-g', 'postgres'])).stdout)] : [0, 0]
    if (asPostgres) chownSync(dir, uid, gid)
    await pgRun('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'])
    writeFileSync(join(dir, 'hba.conf'), 'hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\nlocal all all trust\n')
    // the server reads its key only when the key is private to the user it runs as
    for (const f of ['server.crt', 'server.key']) {
      copyFileSync(join(dir, f), join(dir, `pg-${f}`))
      chmodSync(join(dir, `pg-${f}`), 0o600)
      if (asPostgres) chownSync(join(dir, `pg-${f}`), uid, gid)
    }
    const options = [`-p ${pgPort}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c fsync=off', '-c shared_buffers=16MB', '-c ssl=on',
      `-c ssl_cert_file=${join(dir, 'pg-server.crt')}`, `-c ssl_key_file=${join(dir, 'pg-server.key')}`, `-c hba_file=${join(dir, 'hba.conf')}`].join(' ')
    await pgRun('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'pg.log'), '-w', 'start'])
    // Redis: a TLS port only
    redis = spawn('redis-server', ['--port', '0', '--tls-port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no'], { stdio: 'ignore' })
    await migrate({ connection: connectionConfig(url('verify-full'), certs.ca) })
  })

  afterAll(async () => {
    redis?.kill('SIGKILL')
    if (redis && redis.exitCode === null) await once(redis, 'exit')
    await pgRun('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  })

  it('serves over a verified TLS connection to PostgreSQL (sslmode=verify-full with DATABASE_SSL_CA_FILE)', async () => {
    const app = await buildTestApp(url('verify-full'), { DATABASE_SSL_CA_FILE: certs.ca })
    try {
      const res = await gql(app, '{ users { id } }')
      expect(res.body).toEqual({ data: { users: [] } })
      const { rows } = await app.db.query('tls_check', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')
      expect(rows).toEqual([{ ssl: true }])
    } finally {
      await app.close()
    }
  })

  it('refuses a PostgreSQL server whose certificate another CA signed, and plaintext is refused by the server', async () => {
    const wrongCa = new pg.Client(connectionConfig(url('verify-full'), certs.other) as pg.ClientConfig)
    await expect(wrongCa.connect()).rejects.toMatchObject({ code: expect.stringMatching(/CERT|VERIFY/) })
    // without the CA the system store does not know this server either
    const noCa = new pg.Client({ connectionString: url('verify-full') })
    await expect(noCa.connect()).rejects.toMatchObject({ code: expect.stringMatching(/CERT|VERIFY/) })
    // the server accepts TLS only (pg_hba), so the success above was over TLS
    const plain = new pg.Client({ connectionString: url('disable') })
    await expect(plain.connect()).rejects.toMatchObject({ code: '28000' })
  })

  it('talks to Redis over rediss:// with REDIS_TLS_CA_FILE, and refuses an unknown CA', async () => {
    await waitUntil(async () => {
      const c = createRedis({ url: `rediss://127.0.0.1:${redisPort}`, commandTimeoutMs: 1000, keyPrefix: 'tls-test:', tlsCa: readFileSync(certs.ca, 'utf8') })
      try { return await c.connect().then(() => true, () => false) } finally { c.disconnect() }
    }, 10_000, 100)
    const app = await buildTestApp(url('verify-full'), { DATABASE_SSL_CA_FILE: certs.ca, REDIS_URL: `rediss://127.0.0.1:${redisPort}`, REDIS_TLS_CA_FILE: certs.ca })
    try {
      expect(await app.redis!.ping()).toBe('PONG')
      const ready = await app.inject({ url: '/ready' })
      expect(ready.json()).toMatchObject({ status: 'ready', checks: { database: 'ok', redis: 'ok' } })
    } finally {
      await app.close()
    }
    const wrong = createRedis({ url: `rediss://127.0.0.1:${redisPort}`, commandTimeoutMs: 1000, keyPrefix: 'tls-test:', tlsCa: readFileSync(certs.other, 'utf8') })
    const errors: Error[] = []
    wrong.on('error', (err: Error) => errors.push(err))
    await expect(wrong.connect()).rejects.toThrow()
    expect(errors[0]).toMatchObject({ code: expect.stringMatching(/CERT|VERIFY/) })
    wrong.disconnect()
  })
})
