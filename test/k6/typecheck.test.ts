// The k6 scripts are plain JavaScript that CI cannot run (no k6 binary): they are type-checked
// against @types/k6 0.48 (k6/tsconfig.json, checkJs), and parsed at ES2018 with k6's globals
// only, because older k6 runtimes reject newer syntax (optional chaining, ??) and know no Node.
import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Linter } from 'eslint'
import { expect, it } from 'vitest'
import { ROOT } from '../../src/paths.js'

const K6 = join(ROOT, 'k6')
const scripts = readdirSync(K6, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js')).sort()

it('finds the five scenarios and their library', () => {
  expect(scripts).toEqual(expect.arrayContaining(['smoke.js', 'load.js', 'stress.js', 'spike.js', 'soak.js', join('lib', 'operations.js')]))
})

it('type-checks against @types/k6', async () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = await promisify(execFile)(process.execPath, [tsc, '-p', join(K6, 'tsconfig.json'), '--pretty', 'false'], { cwd: ROOT })
    .then(() => '', (err: { stdout?: string, message: string }) => err.stdout || err.message)
  expect(result).toBe('')
}, 120_000)

it.each(scripts)('%s parses as ES2018 with only k6 globals', async (file) => {
  const linter = new Linter({ configType: 'flat' })
  const messages = linter.verify(await readFile(join(K6, file), 'utf8'), [{
    languageOptions: { ecmaVersion: 2018, sourceType: 'module', globals: { __ENV: 'readonly', __VU: 'readonly', __ITER: 'readonly', console: 'readonly', open: 'readonly' } },
    rules: { 'no-undef': 'error' }
  }], file)
  expect(messages.map((m) => `${m.line}:${m.column} ${m.message}`)).toEqual([])
})
