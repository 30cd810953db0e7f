// Every relative link and anchor in the README and docs/ resolves (remark-validate-links checks
// files and headings offline, across files), and the README stays a front door.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../../src/paths.js'

const run = promisify(execFile)

describe('documentation', () => {
  it('every relative link and heading anchor in README.md and docs/ resolves', async () => {
    const remark = join(ROOT, 'node_modules', '.bin', 'remark')
    const args = ['--use', 'remark-validate-links=repository:false', '--frail', '--no-stdout', '--no-color', 'README.md', 'docs']
    const result = await run(remark, args, { cwd: ROOT }).then(() => ({ code: 0, stderr: '' }), (err: { code: number, stderr: string }) => err)
    // --frail: a warning (a missing file or heading) makes the exit code non-zero
    expect(result.stderr.split('\n').filter((line) => /warning|error/.test(line))).toEqual([])
    expect(result.code).toBe(0)
  })

  it('the README fits on a screen or two (300 lines at most); the manual lives in docs/', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(300)
  })
})
