// Read replicas on real PostgreSQL: a private primary and a streaming replica (initdb,
// pg_basebackup -R), the primary behind a TCP endpoint a failover can repoint, and two app
// instances sharing Redis (A with the resolver cache, B without). Under traffic: reads reach the
// replica (counted in its own statement log); read-your-writes holds across instances while the
// replica lags; a paused replay moves reads to the primary; a stopped replica fails no request; a
// killed primary, its replica promoted behind the endpoint, costs SERVICE_UNAVAILABLE on writes
// only during the promotion, with no restart of the server.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { migrate } from '../../src/db/migrate.js'
import { seedDatabase } from '../../src/db/seed.js'
import { buildTestApp, gql, token } from '../helpers/app.js'
import { report, startProxy, traffic as startTraffic, waitUntil, type Proxy, type Sample } from '../helpers/faults.js'
import { startReplication, type Replication } from '../helpers/replication.js'
import { deleteRedisKeys, describeWith, TEST_REDIS_URL } from '../helpers/services.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const RENAME = 'mutation ($id: ID!, $name: String!) { updateUser(id: $id, input: { name: $name }) { name } }'

async function counter (app: App, name: string, labels: Record<string, string> = {}) {
  const { values } = await app.metrics.registry.getSingleMetric(name)!.get()
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((sum, v) => sum + v.value, 0)
}
const replicaReads = (app: App) => counter(app, 'db_queries_routed_total', { pool: 'replica-0', kind: 'read' })
const primaryReads = (app: App) => counter(app, 'db_queries_routed_total', { pool: 'primary', kind: 'read' })
const inRotation = (app: App) => app.readReplicas!.replicas.replicas[0].healthy
const ok = (s: { status: number, codes: string[] }) => s.status === 200 && s.codes.length === 0

// traffic a failed test left running is stopped after it, so it cannot spin on closed apps
const loads: Array<{ stop (): Promise<unknown> }> = []
const traffic: typeof startTraffic = (send, workers) => {
  const load = startTraffic(send, workers)
  loads.push(load)
  return load
}
afterEach(async () => { await Promise.all(loads.splice(0).map((l) => l.stop())) })

describeWith('redis', 'read replicas', () => {
  describeWith('redis', 'two instances sharing Redis', () => {
    let repl: Replication
    let endpoint: Proxy
    let a: App
    let b: App
    const prefix = `test-repl-${randomBytes(4).toString('hex')}:`

    /** a caller renames themselves on A, then reads themselves on B and (anonymously) on A */
    /**
     * A caller renames themselves on A, then at once reads themselves on B and (anonymously) on A;
     * control (when given) reads the row on the replica directly at the same moment.
     */
    async function pair (user: string, name: string, control?: (user: string) => Promise<string>) {
      const tk = token(user)
      const write = await gql(a, RENAME, { token: tk, variables: { id: user, name } })
      if (write.body.data?.updateUser?.name !== name) return { written: false, staleMine: 0, staleAnon: 0, replicaBehind: 0, errors: (write.body.errors ?? []).map((e) => e.extensions.code) }
      const [mine, anon, direct] = await Promise.all([
        gql(b, '{ me { name } }', { token: tk }), gql(a, `{ user(id: "${user}") { name } }`), control?.(user)
      ])
      return {
        written: true,
        // stale: an answer with an older name (an error is counted as an error, not as stale)
        staleMine: mine.body.data?.me && mine.body.data.me.name !== name ? 1 : 0,
        errors: [...(mine.body.errors ?? []), ...(anon.body.errors ?? [])].map((e) => e.extensions.code),
        staleAnon: anon.body.data?.user && anon.body.data.user.name !== name ? 1 : 0,
        replicaBehind: direct !== undefined && direct !== name ? 1 : 0
      }
    }

    beforeAll(async () => {
      repl = await startReplication()
      await migrate({ connection: repl.primary.url })
      await seedDatabase(repl.primary.url, { users: 30, postsPerUser: 2 })
      await waitUntil(async () => Number((await repl.replica.sql<{ n: string }>('SELECT count(*) AS n FROM users'))[0].n) === 30, 10_000)
      endpoint = await startProxy(repl.primary.port)
      const env = {
        DATABASE_REPLICA_URLS: repl.replica.url, REPLICA_MAX_LAG_MS: '500',
        DATABASE_POOL_MIN: '1', DATABASE_POOL_MAX: '10', DATABASE_REPLICA_POOL_MAX: '10',
        DATABASE_CONNECT_TIMEOUT_MS: '5000', READY_CHECK_TIMEOUT_MS: '2000',
        REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix
      }
      a = await buildTestApp(endpoint.url(repl.primary.url), env)
      b = await buildTestApp(endpoint.url(repl.primary.url), { ...env, CACHE_TTL_SECONDS: '0' })
    }, 60_000)
    afterAll(async () => {
      // each step bounded: a step that hangs is reported, and the clusters are removed regardless
      const bounded = async (step: string, fn: () => Promise<unknown> | undefined) => {
        const started = performance.now()
        const done = await Promise.race([Promise.resolve(fn()).then(() => true), sleep(10_000).then(() => false)])
        if (!done) process.stdout.write(`[replicas] ${step} did not finish within ${Math.round(performance.now() - started)} ms\n`)
      }
      await bounded('closing app A', () => a?.close())
      await bounded('closing app B', () => b?.close())
      await bounded('closing the endpoint', () => endpoint?.close())
      await repl?.close()
      await deleteRedisKeys(prefix)
    }, 60_000)

    it('serves queries from the replica: counted in the replica\'s own statement log', async () => {
      const statement = /execute users_list/
      const before = { replica: repl.replica.logged(statement), primary: repl.primary.logged(statement) }
      for (let i = 0; i < 200; i++) {
        const res = await gql(b, `{ users(limit: 5, offset: ${i}) { id } }`)
        expect(res.body.errors).toBeUndefined()
      }
      const onReplica = repl.replica.logged(statement) - before.replica
      const onPrimary = repl.primary.logged(statement) - before.primary
      report('reads reach the replica', { queries: 200, statementsOnReplica: onReplica, statementsOnPrimary: onPrimary })
      expect({ onReplica, onPrimary }).toEqual({ onReplica: 200, onPrimary: 0 })
      const ready = await b.inject('/ready')
      expect({ status: ready.statusCode, replicas: ready.json().checks.replicas }).toEqual({ status: 200, replicas: 'ok' })
    })

    it('never shows a caller data older than their own write (200 pairs across two instances, the replica 200 ms behind)', async () => {
      await repl.replica.sql("ALTER SYSTEM SET recovery_min_apply_delay = '200ms'")
      await repl.replica.sql('SELECT pg_reload_conf()')
      const direct = new pg.Pool({ connectionString: repl.replica.url, max: 8 })
      direct.on('error', () => {})
      const control = async (user: string) => (await direct.query<{ name: string }>('SELECT name FROM users WHERE id = $1', [user])).rows[0].name
      const reads = { replica: await replicaReads(b), primary: await primaryReads(b) }
      const users = [2, 3, 4, 5, 6, 7, 8, 9].map(String)
      const results = (await Promise.all(users.map(async (user) => {
        const out = []
        for (let i = 0; i < 200 / users.length; i++) out.push(await pair(user, `pair-${user}-${i}`, control))
        return out
      }))).flat()
      await direct.end()
      await repl.replica.sql('ALTER SYSTEM RESET recovery_min_apply_delay')
      await repl.replica.sql('SELECT pg_reload_conf()')
      const sum = (key: 'staleMine' | 'staleAnon' | 'replicaBehind') => results.reduce((n, r) => n + r[key], 0)
      const figures = {
        pairs: results.length,
        written: results.filter((r) => r.written).length,
        errors: results.flatMap((r) => r.errors),
        staleOwnReads: sum('staleMine'),
        staleAnonymousReadsThroughCache: sum('staleAnon'),
        replicaBehindAtTheRead: sum('replicaBehind'),
        ownReadsOnReplica: await replicaReads(b) - reads.replica,
        ownReadsOnPrimary: await primaryReads(b) - reads.primary
      }
      report('read-your-writes', figures)
      expect(figures).toMatchObject({ pairs: 200, written: 200, errors: [], staleOwnReads: 0, staleAnonymousReadsThroughCache: 0 })
      // the control: the replica itself had not replayed the write when the caller read
      expect(figures.replicaBehindAtTheRead).toBeGreaterThan(0)
    }, 60_000)

    it('moves reads to the primary within 2 s of a paused replay, serving nothing stale, and /ready says degraded', async () => {
      await waitUntil(() => inRotation(a) && inRotation(b), 15_000)
      const stale: string[] = []
      let n = 0
      // one worker per caller: a caller's writes and reads are sequential, as read-your-writes assumes
      const writers = ['6', '7', '8'].map((user) => traffic(async () => {
        const r = await pair(user, `paused-${n++}`)
        if (r.staleMine) stale.push(`${user}: own read`)
        if (r.staleAnon) stale.push(`${user}: anonymous read through the cache`)
        return { status: 200, codes: r.written ? [] : ['NOT_WRITTEN'] }
      }, 1))
      const readers = traffic(async () => {
        const res = await gql(b, '{ users(limit: 5) { id } }')
        return { status: res.statusCode, codes: (res.body.errors ?? []).map((e) => e.extensions.code) }
      }, 2)
      await sleep(500)
      await repl.replica.sql('SELECT pg_wal_replay_pause()')
      const pausedAt = performance.now()
      const outAfterMs = await waitUntil(() => !inRotation(a) && !inRotation(b), 5000, 10)
      const ready = await b.inject('/ready')
      // a read counts on its pool when it finishes (src/db/routing.ts): one that picked the replica
      // just before it left rotation may still finish on it; let those end before the window opens
      await sleep(200)
      const onReplicaThen = await replicaReads(b)
      await sleep(1000)
      const onReplicaSince = await replicaReads(b) - onReplicaThen
      const lagMs = b.readReplicas!.replicas.replicas[0].lagMs
      await repl.replica.sql('SELECT pg_wal_replay_resume()')
      const backAfterMs = await waitUntil(() => inRotation(a) && inRotation(b), 15_000)
      const samples = [...(await Promise.all(writers.map((w) => w.stop()))).flat(), ...await readers.stop()]
      report('replay paused', {
        requests: samples.length, failed: samples.filter((s) => !ok(s)).length, stale: stale.length,
        outOfRotationAfterMs: outAfterMs, lagSeenMs: lagMs, replicaReadsInTheSecondAfter: onReplicaSince, backInRotationAfterResumeMs: backAfterMs,
        sinceReplayPausedMs: Math.round(performance.now() - pausedAt), ready: ready.json()
      })
      expect(outAfterMs).toBeLessThan(2000)
      expect(onReplicaSince).toBe(0)
      expect(stale).toEqual([])
      expect(samples.every(ok)).toBe(true)
      expect({ status: ready.statusCode, replicas: ready.json().checks.replicas }).toEqual({ status: 200, replicas: 'degraded' })
    }, 45_000)

    it('fails no request when the replica stops, and takes it back when it returns', async () => {
      await waitUntil(() => inRotation(a) && inRotation(b), 15_000)
      let n = 0
      const load = traffic(async () => {
        const i = n++
        const res = i % 2 === 0
          ? await gql(b, `{ users(limit: 3, offset: ${i % 20}) { id name } }`)
          : await gql(b, '{ me { name } }', { token: token('9') })
        return { status: res.statusCode, codes: (res.body.errors ?? []).map((e) => e.extensions.code) }
      }, 4)
      const start = { replica: await replicaReads(b), primary: await primaryReads(b) }
      await sleep(500)
      const before = { replica: await replicaReads(b), primary: await primaryReads(b) }
      await repl.replica.stop()
      const stoppedAt = performance.now()
      await sleep(1500)
      const ready = await b.inject('/ready')
      const whileStopped = { replica: await replicaReads(b) - before.replica, primary: await primaryReads(b) - before.primary }
      await repl.replica.start()
      const backAfterMs = await waitUntil(() => inRotation(a) && inRotation(b), 15_000)
      await sleep(300)
      const samples = await load.stop()
      report('replica stopped (pg_ctl stop -m fast) and started', {
        requests: samples.length, whileStopped: samples.filter((s) => s.startedAt > stoppedAt && s.startedAt < stoppedAt + 1500).length,
        failed: samples.filter((s) => !ok(s)).length, readsOnReplicaBeforeStop: before.replica - start.replica,
        readsWhileStopped: whileStopped, backInRotationAfterStartMs: backAfterMs
      })
      expect(samples.filter((s) => !ok(s))).toEqual([])
      expect(whileStopped.primary).toBeGreaterThan(0)
      expect({ status: ready.statusCode, replicas: ready.json().checks.replicas }).toEqual({ status: 200, replicas: 'degraded' })
    }, 45_000)

    it('survives a primary failover under traffic with no restart: SERVICE_UNAVAILABLE on writes only during the promotion', async () => {
      let n = 0
      const unexpected: string[] = []
      // every third write is a createPost with an Idempotency-Key: a transaction (retried whole on 25006)
      const writes = traffic(async () => {
        const i = n++
        const user = String(10 + (i % 3))
        const res = i % 3 === 2
          ? await gql(a, 'mutation ($t: String!) { createPost(input: { title: $t, body: "b" }) { title } }',
            { token: token(user), variables: { t: `failover-${i}` }, headers: { 'idempotency-key': `failover-${prefix}${i}` } })
          : await gql(a, RENAME, { token: token(user), variables: { id: user, name: `failover-${i}` } })
        for (const e of res.body.errors ?? []) if (e.extensions.code !== 'SERVICE_UNAVAILABLE') unexpected.push(e.message)
        return { status: res.statusCode, codes: (res.body.errors ?? []).map((e) => e.extensions.code) }
      }, 3)
      const reads = traffic(async () => {
        const res = await gql(b, '{ users(limit: 5) { id } }')
        return { status: res.statusCode, codes: (res.body.errors ?? []).map((e) => e.extensions.code) }
      }, 1)
      await sleep(700)
      const retriesBefore = await counter(a, 'db_read_only_retries_total')
      const killedAt = performance.now()
      await repl.primary.kill()
      await sleep(300)
      // the endpoint now leads to the replica, still a standby: writes meet a read-only server
      endpoint.target(repl.replica.port)
      await sleep(1000)
      const promotingAt = performance.now()
      await repl.replica.promote()
      const promotedAt = performance.now()
      const firstWriteAfterMs = await waitUntil(() => writes.samples.some((s) => s.startedAt > promotedAt && ok(s)), 10_000)
      await sleep(1000)
      const samples = await writes.stop()
      const readSamples = await reads.stop()
      const failed = samples.filter((s) => !ok(s))
      const settled = (s: Sample) => s.startedAt > promotedAt + 1000
      const figures = {
        writes: samples.length,
        failedWrites: failed.length,
        codes: [...new Set(failed.flatMap((s) => s.codes))],
        failedBeforeKill: failed.filter((s) => s.startedAt + s.ms < killedAt).length,
        failedAfterPromotion: failed.filter(settled).length,
        writesAfterPromotion: samples.filter(settled).length,
        firstSuccessfulWriteAfterPromotionMs: firstWriteAfterMs,
        promoteMs: Math.round(promotedAt - promotingAt),
        readOnlyRetries: await counter(a, 'db_read_only_retries_total') - retriesBefore,
        reads: readSamples.length,
        failedReads: readSamples.filter((s) => !ok(s)).length,
        unexpected
      }
      report('primary killed, replica promoted behind the endpoint', figures)
      expect(samples.every((s) => s.status === 200)).toBe(true)
      expect(figures.codes).toEqual(['SERVICE_UNAVAILABLE'])
      expect(figures).toMatchObject({ failedBeforeKill: 0, failedAfterPromotion: 0 })
      expect(figures.writesAfterPromotion).toBeGreaterThan(0)
      expect(figures.readOnlyRetries).toBeGreaterThan(0)
      expect(readSamples.every((s) => s.status === 200 && s.codes.every((c) => c === 'SERVICE_UNAVAILABLE'))).toBe(true)
      const ready = await a.inject('/ready')
      expect(ready.statusCode).toBe(200)
    }, 40_000)
  })
})
