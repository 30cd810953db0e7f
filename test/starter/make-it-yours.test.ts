// The "Make it yours" guide (docs/make-it-yours.md), followed on a scratch copy of the repository:
// its shell blocks run there as they are (copy a domain folder, rename it with sed, write the
// migration, append the registry line: file operations only, no edit of infrastructure), then
// codegen, the type check and the new folder's test. The files the guide touched are listed and
// must be the new folder, the registry, the migration and the codegen output, nothing else. A guide
// step that no longer fits the code fails here. One vitest run of one file plus tsc: ~20 s of CPU.
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT } from '../../src/paths.js'
import { TEST_DATABASE_URL } from '../helpers/services.js'

const run = promisify(execFile)
const guide = readFileSync(join(ROOT, 'docs', 'make-it-yours.md'), 'utf8')
const end = guide.indexOf('\n## What the folder holds\n')
const section = guide.slice(0, end < 0 ? guide.length : end)
const shellBlocks = [...section.matchAll(/```sh\n([^]*?)```/g)].map((m) => m[1])
/** the guide's last block: the commands that check the result (run below with the scratch copy's tools) */
const CHECKS = ['npm run codegen', 'npm run typecheck', 'npx vitest run src/domain/comments']

const SKIP = new Set(['node_modules', '.git', '.data', 'coverage', 'dist', 'k6/results', '.env'])

function filesUnder (root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (SKIP.has(relative(root, path))) return []
    return statSync(path).isDirectory() ? filesUnder(root, path) : [relative(root, path)]
  })
}

/** `git diff --stat`-like: each file added (A), changed (M) or deleted (D), with lines added and removed */
function touched (before: string, after: string): Array<{ path: string, change: 'A' | 'M' | 'D', added: number, removed: number }> {
  const lines = (root: string, path: string) => { try { return readFileSync(join(root, path), 'utf8').split('\n') } catch { return null } }
  const paths = [...new Set([...filesUnder(before), ...filesUnder(after)])].sort()
  return paths.flatMap((path) => {
    const a = lines(before, path)
    const b = lines(after, path)
    if (a && b && a.join('\n') === b.join('\n')) return []
    // lines in one version and not the other (a multiset difference: enough for a stat)
    const count = (xs: string[] | null, ys: string[] | null) => {
      const left = new Map<string, number>()
      for (const y of ys ?? []) left.set(y, (left.get(y) ?? 0) + 1)
      return (xs ?? []).filter((x) => { const n = left.get(x) ?? 0; left.set(x, n - 1); return n <= 0 }).length
    }
    return [{ path, change: !a ? 'A' as const : !b ? 'D' as const : 'M' as const, added: count(b, a), removed: count(a, b) }]
  })
}

describe('docs/make-it-yours.md, followed on a scratch copy', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'bastion-yours-'))
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  it('the section is shell blocks: copy, rename, migrate, register, then the checks', () => {
    expect(shellBlocks).toHaveLength(4)
    expect(shellBlocks[0]).toMatch(/^cp -r src\/domain\/posts src\/domain\/comments\n/)
    expect(shellBlocks[3].split('\n').filter(Boolean)).toEqual(CHECKS)
    // file operations only: nothing outside the new folder, the migrations and the registry is written
    for (const block of shellBlocks.slice(0, 3)) {
      for (const target of block.matchAll(/(?:>>?|sed -i '[^']*'|cp -r \S+)\s+"?([^\s"]+)/g)) {
        expect(target[1], block).toMatch(/^(src\/domain\/comments\b|migrations\/|src\/domain\/index\.ts$)/)
      }
    }
  })

  it('adds a Comment type end to end by copying a folder: codegen, type check and its test pass; only the folder, registry, migration and codegen output change', async () => {
    cpSync(ROOT, scratch, { recursive: true, filter: (src) => !SKIP.has(relative(ROOT, src)) })
    const env = {
      PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR,
      TEST_DATABASE_URL, TEST_REDIS_URL: process.env.TEST_REDIS_URL, REQUIRE_SERVICES: process.env.REQUIRE_SERVICES,
      NO_COLOR: '1'
    }
    // steps 1 to 3, as written
    for (const block of shellBlocks.slice(0, 3)) {
      await run('sh', ['-euc', block], { cwd: scratch, env }).catch((err: { stderr?: string }) => {
        throw new Error(`the guide's block failed in the scratch copy:\n${block}\n${err.stderr}`)
      })
    }
    symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir')
    const inScratch = (args: string[]) => run(process.execPath, args, { cwd: scratch, env, maxBuffer: 16 * 1024 * 1024 })
      .catch((err: { stdout?: string, stderr?: string }) => { throw new Error(`${args.join(' ')} failed in the scratch copy:\n${err.stdout}\n${err.stderr}`) })

    // step 4: npm run codegen
    await inScratch(['--import', 'tsx', 'scripts/codegen.ts'])
    const generated = readFileSync(join(scratch, 'src/domain/generated.ts'), 'utf8')
    expect(generated).toMatch(/createComment\?: Resolver</)
    expect(generated).toMatch(/comments\?: LoaderResolver</)

    const stat = touched(ROOT, scratch).filter((f) => f.path !== 'node_modules')
    // printed for the reader of the run, as `git diff --stat` would
    console.log(stat.map((f) => `${f.change} ${f.path} +${f.added} -${f.removed}`).join('\n'))
    const outside = stat.filter((f) => !f.path.startsWith('src/domain/comments/')).map((f) => `${f.change} ${f.path}`)
    expect(outside.map((f) => f.replace(/\d{13}/, '<timestamp>'))).toEqual([
      'A migrations/<timestamp>_comments.sql', 'M src/domain/generated.ts', 'M src/domain/index.ts'
    ])
    expect(stat.find((f) => f.path === 'src/domain/index.ts')).toMatchObject({ added: 1, removed: 0 })
    expect(stat.filter((f) => f.path.startsWith('src/domain/comments/')).map((f) => f.path))
      .toEqual(filesUnder(join(ROOT, 'src/domain/posts')).map((f) => `src/domain/comments/${f}`).sort())

    // the type check of everything the guide touches (src/, with the folder's test and its helpers;
    // npm run typecheck covers test/ and bench/ too, which the guide does not change)
    writeFileSync(join(scratch, 'tsconfig.guide.json'), JSON.stringify({
      extends: './tsconfig.json', include: ['src', 'test/helpers', 'test/global-setup.ts']
    }))
    // and the new folder's test, on a template database migrated with the new migration; both at once
    const [, { stdout }] = await Promise.all([
      inScratch([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.guide.json', '--noEmit']),
      inScratch([join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'src/domain/comments'])
    ])
    expect(stdout).toMatch(/Tests\s+4 passed \(4\)/)
    expect(stdout).toMatch(/src\/domain\/comments\/api\.test\.ts/)
  }, 300_000)
})
