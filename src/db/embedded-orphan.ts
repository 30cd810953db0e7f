// What a server killed with SIGKILL may leave behind for the embedded PostgreSQL: its postmaster
// still running on the cluster (until the watchdog of embedded.ts has stopped it), or a stale
// postmaster.pid. A running postmaster of this directory is stopped (fast shutdown, then harder);
// a stale pid file (its process gone) PostgreSQL handles itself on start, as it does the shared
// memory of a postmaster that died (it checks that no process still uses the segment).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    // EPERM: it exists but belongs to another user
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  // an exited process that nobody reaped yet (a zombie) holds nothing any more
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

/** the postmaster running on dir, if any: postmaster.pid names it, and its command line is postgres's */
export function runningPostmaster (dir: string): number | undefined {
  let lines: string[]
  try {
    lines = readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')
  } catch {
    return undefined
  }
  const pid = Number(lines[0])
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !alive(pid)) return undefined
  // the pid may have been reused by an unrelated process since: only a postgres gets a signal
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    if (!/(^|\/)postgres\0/.test(cmdline)) return undefined
  } catch {
    // no /proc (macOS): trust postmaster.pid's data directory line
    if (lines[1]?.trim() !== dir) return undefined
  }
  return pid
}

export async function stopOrphan (dir: string, waitMs = 15_000): Promise<void> {
  const pid = runningPostmaster(dir)
  if (!pid) return
  // SIGINT: fast shutdown (aborts open transactions, checkpoints); SIGQUIT: immediate shutdown
  // (recovery on the next start); SIGKILL as the last resort
  for (const signal of ['SIGINT', 'SIGQUIT', 'SIGKILL'] as const) {
    try {
      process.kill(pid, signal)
    } catch {
      return
    }
    for (const end = Date.now() + waitMs / 3; Date.now() < end; await sleep(50)) {
      if (!alive(pid)) return
    }
  }
}
