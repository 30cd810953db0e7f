// `npm run bench -- --instructions`: the instructions a configuration executes per request, counted
// by Valgrind's callgrind, instead of req/s and CPU time. On a shared or virtual machine, req/s and
// CPU time move by 20% or more between two runs of the same build (other tenants, the CPU's caches
// and clock), on one host by a factor of two; the instruction count of the same requests moves by
// several percent (how many requests share an event-loop turn still varies). It counts
// instructions, not time: the cost of a system call or a cache miss is not in it, and work done on
// a timer (metrics sampling, span export), and V8 compiling what those timers run, weighs more than
// under real load, because the server runs about 50 times slower under Valgrind: compare rows
// counted with the same warm-up, and read differences of 10% or less as unresolved
// (docs/performance.md).
//
// The server (the production build, the start command's flags) runs under callgrind; after the
// warm-up requests (V8 has compiled the hot code by then) its counters are zeroed, the measured
// requests are sent, and the counters dumped: every thread's instructions (V8's compiler and garbage
// collector threads included) divided by the measured requests.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** whether callgrind can run here (Debian: `apt-get install valgrind`) */
export function haveValgrind (): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export interface Callgrind {
  /** the command prefix that runs the server under callgrind */
  prefix: string[]
  /** zero the counters of the process (after the warm-up) */
  zero: (pid: number) => void
  /** dump the counters and return the instructions counted since `zero` */
  dump: (pid: number) => number
  cleanUp: () => void
}

export function callgrind (): Callgrind {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-callgrind-'))
  const vgdb = join(dir, 'vgdb')
  // Valgrind names its control pipes with the server's HOST variable (127.0.0.1 in the bench), and
  // callgrind_control looks for them with its own: the same value on both sides
  const control = (pid: number, action: string) => execFileSync('callgrind_control', [`--vgdb-prefix=${vgdb}`, action, String(pid)], { env: { ...process.env, HOST: '127.0.0.1' }, stdio: 'ignore' })
  return {
    // --smc-check: V8 writes and rewrites the machine code it runs; Valgrind's own messages to a file
    prefix: ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--vgdb=yes', `--vgdb-prefix=${vgdb}`, `--callgrind-out-file=${join(dir, 'callgrind.%p')}`, `--log-file=${join(dir, 'valgrind.%p.log')}`],
    zero: (pid) => control(pid, '--zero'),
    dump: (pid) => {
      control(pid, '--dump')
      const file = readdirSync(dir).find((f) => f.startsWith(`callgrind.${pid}.`))
      if (!file) throw new Error(`callgrind wrote no dump for ${pid} in ${dir}`)
      const total = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'))
      if (!total) throw new Error(`no instruction total in ${file}`)
      rmSync(join(dir, file))
      return Number(total[1])
    },
    cleanUp: () => rmSync(dir, { recursive: true, force: true })
  }
}
