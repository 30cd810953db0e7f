// `npm start`'s prestart: compiles (tsc -b tsconfig.build.json) only when a source or tsconfig is
// newer than the last build's dist/.tsbuildinfo. tsc -b would find that out too, but loading the
// compiler alone costs about a second of CPU at every start; this stat walk costs milliseconds.
// Plain JavaScript: it runs before anything is compiled.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import process from 'node:process'

const ROOT = join(import.meta.dirname, '..')
const stamp = (path) => { try { return statSync(path).mtimeMs } catch { return 0 } }

function newest (dir) {
  let max = stamp(dir)
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    max = Math.max(max, entry.isDirectory() ? newest(path) : stamp(path))
  }
  return max
}

const built = stamp(join(ROOT, 'dist', '.tsbuildinfo'))
const inputs = Math.max(newest(join(ROOT, 'src')), stamp(join(ROOT, 'tsconfig.json')), stamp(join(ROOT, 'tsconfig.build.json')))
if (built === 0 || inputs > built) {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const { status } = spawnSync(process.execPath, [tsc, '-b', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' })
  process.exit(status ?? 1)
}
