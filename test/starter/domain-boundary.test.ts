// The example domain (users and posts) lives in src/domain/<name>/ and nowhere else in the code:
// the infrastructure (plugins, cache, GraphQL core, Idempotency-Key, observability, rate limits,
// scripts) reads the registry (src/domain/index.ts) and names no domain type, so adding or
// removing a domain is a folder, a registry line and a migration (docs/make-it-yours.md).
// Not scanned: test/, bench/, k6/ and docs/, which exercise and describe the example's operations
// by design, and migrations/, which create its tables.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { domains } from '../../src/graphql/domain.js'
import { ROOT } from '../../src/paths.js'

// Whole words, case-sensitive: the example's types, tables, fields, operations and counters.
// Generic words it also uses (id, name, email, title, body, me, user as in "the user") are left out:
// they name nothing only this domain has, and would match infrastructure for unrelated reasons.
const DOMAIN_TOKENS = /\b(users|posts|User|Post|Users|Posts|UserRow|PostRow|createUser|updateUser|deleteUser|createPost|author|authors|authorId|author_id|usersCreated|postsCreated|users_created_total|posts_created_total)\b/

/** where the domain may be named, and why */
const ALLOWED: Record<string, string> = {
  'src/domain/': 'the domains themselves, the registry and the codegen output (src/domain/generated.ts: their types)',
  'src/db/seed.ts': 'the demo data set is the example domain\'s rows',
  'src/db/seed-cli.ts': 'npm run seed prints what the seed wrote'
}

function filesUnder (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })
}

describe('the domain boundary', () => {
  it('no file of the infrastructure (src/ outside src/domain/, scripts/) names the example domain', () => {
    const scanned = [...filesUnder(join(ROOT, 'src')), ...filesUnder(join(ROOT, 'scripts'))]
      .map((path) => relative(ROOT, path))
      .filter((path) => !Object.keys(ALLOWED).some((allowed) => path === allowed || (allowed.endsWith('/') && path.startsWith(allowed))))
    expect(scanned.length).toBeGreaterThan(50)
    const found = scanned.flatMap((path) => readFileSync(join(ROOT, path), 'utf8').split('\n')
      .map((line, i) => ({ line, at: `${path}:${i + 1}` }))
      .filter(({ line }) => DOMAIN_TOKENS.test(line))
      .map(({ line, at }) => `${at}: ${line.trim()}`))
    expect(found).toEqual([])
  })

  it('the token list catches the example where it lives (so the scan above could fail)', () => {
    for (const file of ['src/domain/users/schema.graphql', 'src/domain/posts/resolvers.ts', 'src/db/seed.ts']) {
      expect(readFileSync(join(ROOT, file), 'utf8'), file).toMatch(DOMAIN_TOKENS)
    }
    expect('the USER role, a POST request, PostgreSQL, a user\'s email').not.toMatch(DOMAIN_TOKENS)
  })

  it('every folder under src/domain/ is in the registry, with its schema file', () => {
    const folders = readdirSync(join(ROOT, 'src/domain')).filter((name) => statSync(join(ROOT, 'src/domain', name)).isDirectory())
    expect(domains.map((domain) => domain.name).sort()).toEqual(folders.sort())
    for (const domain of domains) expect(existsSync(domain.typeDefs), domain.typeDefs).toBe(true)
  })
})
