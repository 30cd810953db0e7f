// Runs the real server (src/server.ts) as a child process, as `npm start` would.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { ROOT } from '../../src/paths.js'

export interface ServerProcess {
  child: ChildProcess
  url: string
  /** every JSON log line so far */
  logs: Array<Record<string, unknown>>
  exited: Promise<number | null>
}

/** nodeArgs: more node options before the script (e.g. another --import) */
export async function startServer (env: Record<string, string | undefined>, timeoutMs = 60_000, nodeArgs: string[] = []): Promise<ServerProcess> {
  // as `npm start` does: the instrument module (Sentry) loads before the server
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './src/instrument.ts', ...nodeArgs, 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const logs: Array<Record<string, unknown>> = []
  let stderr = ''
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const url = await new Promise<string>((resolve, reject) => {
    // a server that did not start in time is killed, never left running after the test
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`server did not start in ${timeoutMs} ms: ${stderr}`)) }, timeoutMs)
    let buffered = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      let nl
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        try {
          const entry = JSON.parse(line) as Record<string, unknown>
          logs.push(entry)
          const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(entry.msg))
          if (m) { clearTimeout(timer); resolve(m[1]) }
        } catch { /* not JSON */ }
      }
    })
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}: ${stderr}`)) })
  })
  return { child, url, logs, exited }
}
