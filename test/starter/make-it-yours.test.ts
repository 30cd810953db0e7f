// The "Make it yours" guide (docs/make-it-yours.md), followed on a scratch copy of the repository: its new files
// are taken verbatim from the guide's code blocks, its edits are made where the guide says,
// then `npm run codegen`, the type check and the new test run there. A guide step that no longer
// fits the code fails here. One vitest run of one file plus tsc (side by side): ~15 s of CPU.
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT } from '../../src/paths.js'
import { TEST_DATABASE_URL } from '../helpers/services.js'

const run = promisify(execFile)
const guide = readFileSync(join(ROOT, 'docs', 'make-it-yours.md'), 'utf8')
const start = guide.indexOf('\n## Extending it\n')
const section = guide.slice(0, start < 0 ? guide.length : start)

// "New file `PATH`" ... the next code block is that file
const NEW_FILE = /New\s+file\s+`([^`]+)`[^]*?\n```\w*\n([^]*?)```/g
const newFiles = [...section.matchAll(NEW_FILE)].map((m) => ({ path: m[1].replace('<timestamp>', String(Date.now())), code: m[2] }))
const blocks = [...section.matchAll(/```\w*\n([^]*?)```/g)].map((m) => m[1])

/** The guide's edits to existing files: each line, where it goes ('imports' = after the last import). */
const EDITS: Array<{ file: string, line: string, after: 'imports' | RegExp }> = [
  { file: 'src/graphql/context.ts', line: "import type { TagsRepository } from '../db/repositories/tags.js'", after: 'imports' },
  { file: 'src/graphql/context.ts', line: 'tags: TagsRepository', after: /export interface Context \{\n/ },
  { file: 'src/plugins/graphql.ts', line: "import { tagsRepository } from '../db/repositories/tags.js'", after: 'imports' },
  { file: 'src/plugins/graphql.ts', line: 'tags: tagsRepository(app.db),', after: /const repos = \{ ?/ },
  { file: 'src/graphql/validation.ts', line: 'tag: text(1, 50),', after: /export const rules = \{\n/ },
  { file: 'src/plugins/graphql.ts', line: "import * as tags from '../graphql/resolvers/tags.js'", after: 'imports' },
  { file: 'src/plugins/graphql.ts', line: '...tags.Query,', after: /\bQuery: \{ ?/ },
  { file: 'src/plugins/graphql.ts', line: '...tags.Mutation,', after: /\bMutation: \{ ?/ }
]

function insert (source: string, line: string, after: 'imports' | RegExp, file: string): string {
  if (after === 'imports') {
    const last = [...source.matchAll(/^import [^\n]*\n/gm)].at(-1)
    if (!last) throw new Error(`${file}: no import to add after`)
    const at = last.index + last[0].length
    return source.slice(0, at) + line + '\n' + source.slice(at)
  }
  const found = [...source.matchAll(new RegExp(after, 'g'))]
  if (found.length !== 1) throw new Error(`${file}: the guide's place ${after} matches ${found.length} times, not once: update the guide and this test`)
  const at = found[0].index + found[0][0].length
  return source.slice(0, at) + line + (found[0][0].endsWith('\n') ? '\n' : ' ') + source.slice(at)
}

describe('docs/make-it-yours.md, followed on a scratch copy', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'bastion-yours-'))
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  it('the section has the new files and exactly the edits this test makes', () => {
    expect(newFiles.map((f) => f.path.replace(/\d{13}/, '<timestamp>'))).toEqual([
      'migrations/<timestamp>_tags.sql', 'src/db/repositories/tags.ts', 'src/graphql/schema/tags.graphql',
      'src/graphql/resolvers/tags.ts', 'test/graphql/tags.test.ts'
    ])
    // every other block of the section is a list of lines to add to existing files
    const editLines = blocks.filter((b) => !newFiles.some((f) => f.code === b)).flatMap((b) => b.split('\n')).filter(Boolean)
    expect(editLines.sort()).toEqual(EDITS.map((e) => e.line).sort())
  })

  it('adds a Tag type end to end: codegen, type check and its test pass', async () => {
    const skip = new Set(['node_modules', '.git', '.data', 'coverage', 'dist', 'k6/results', '.env'])
    cpSync(ROOT, scratch, { recursive: true, filter: (src) => !skip.has(relative(ROOT, src)) })
    symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir')

    for (const { path, code } of newFiles) writeFileSync(join(scratch, path), code)
    for (const { file, line, after } of EDITS) {
      const path = join(scratch, file)
      writeFileSync(path, insert(readFileSync(path, 'utf8'), line, after, file))
    }
    const env = {
      PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR,
      TEST_DATABASE_URL, TEST_REDIS_URL: process.env.TEST_REDIS_URL, REQUIRE_SERVICES: process.env.REQUIRE_SERVICES,
      NO_COLOR: '1'
    }
    const inScratch = (args: string[]) => run(process.execPath, args, { cwd: scratch, env, maxBuffer: 16 * 1024 * 1024 })
      .catch((err: { stdout?: string, stderr?: string }) => { throw new Error(`${args.join(' ')} failed in the scratch copy:\n${err.stdout}\n${err.stderr}`) })

    // step 4: npm run codegen
    await inScratch(['--import', 'tsx', 'scripts/codegen.ts'])
    expect(readFileSync(join(scratch, 'src/graphql/generated.ts'), 'utf8')).toMatch(/createTag\?: Resolver</)
    // the type check of everything the guide touches: src/ and the new test with its helpers
    writeFileSync(join(scratch, 'tsconfig.guide.json'), JSON.stringify({
      extends: './tsconfig.json', include: ['src', 'test/helpers', 'test/global-setup.ts', 'test/graphql/tags.test.ts']
    }))
    // and step 11, the new test, on a template database migrated with the new migration; both at once
    const [, { stdout }] = await Promise.all([
      inScratch([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.guide.json', '--noEmit']),
      inScratch([join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'test/graphql/tags.test.ts'])
    ])
    expect(stdout).toMatch(/Tests\s+1 passed \(1\)/)
  }, 300_000)
})
