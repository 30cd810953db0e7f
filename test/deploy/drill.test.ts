// `npm run drill` end to end: a private cluster archiving to two pgBackRest repositories, a full
// and an incremental backup, a DROP TABLE after a target time T, a restore to T from repo2, the
// server started on the restored data. The drill itself checks that exactly the rows committed
// before T came back; this test holds it to its exit code and its RTO/RPO report.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { ROOT } from '../../src/paths.js'
import { report } from '../helpers/faults.js'
import { REQUIRE_SERVICES } from '../helpers/services.js'

const run = promisify(execFile)
const hasPgbackrest = (process.env.PATH ?? '').split(delimiter).some((dir) => existsSync(join(dir, 'pgbackrest')))
const hasServer = existsSync('/usr/lib/postgresql')
if ((!hasPgbackrest || !hasServer) && REQUIRE_SERVICES) throw new Error('REQUIRE_SERVICES=1 but pgbackrest or the PostgreSQL server binaries are missing: apt-get install pgbackrest postgresql')
const SKIP = hasPgbackrest && hasServer ? '' : ' [skipped: needs pgbackrest and postgresql; apt-get install pgbackrest postgresql]'

async function drill (env: NodeJS.ProcessEnv = process.env) {
  try {
    const { stdout, stderr } = await run('npm', ['run', '-s', 'drill'], { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

it.skipIf(SKIP !== '')(`restores to T from repo2 with every row before T and none after, and reports RTO and RPO${SKIP}`, async () => {
  const { code, stdout, stderr } = await drill()
  expect(code, `${stdout}\n${stderr}`).toBe(0)
  expect(stdout).toMatch(/full backup in both repositories/)
  expect(stdout).toMatch(/incremental backup in both repositories/)
  const restored = /restored rows: (\d+) \(1\.\.(\d+)\); expected exactly 1\.\.(\d+): ok/.exec(stdout)
  expect(restored, stdout).not.toBeNull()
  expect(Number(restored![1])).toBeGreaterThan(0)
  expect(restored![2]).toBe(restored![3])
  const after = /rows (\d+)\.\.(\d+) written after T/.exec(stdout)!
  expect(Number(after[2])).toBeGreaterThanOrEqual(Number(after[1]))
  const rto = Number(/^RTO (\d+(?:\.\d+)?) s$/m.exec(stdout)?.[1])
  const rpo = Number(/^RPO (\d+(?:\.\d+)?) s$/m.exec(stdout)?.[1])
  expect(rto).toBeGreaterThan(0)
  expect(rpo).toBeGreaterThanOrEqual(0)
  report('pitr drill', { rtoSeconds: rto, rpoSeconds: rpo, archiveTimeoutSeconds: 5, rowsRestored: Number(restored![1]) })
}, 300_000)

it.skipIf(SKIP !== '')(`exits non-zero and says why when a step fails${SKIP}`, async () => {
  // repo2 (the other region) unwritable: pgBackRest's own environment variable overrides the
  // configuration, so the stanza cannot be created there
  const { code, stdout, stderr } = await drill({ ...process.env, PGBACKREST_REPO2_PATH: '/dev/null/repo2' })
  expect(code).toBe(1)
  expect(stderr).toMatch(/drill failed: pgbackrest .*stanza-create/s)
  expect(stdout).not.toMatch(/^RTO /m)
}, 120_000)
