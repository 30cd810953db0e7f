// Price bounds work, and the operation priced is the operation that runs: a property over
// generated documents (1-3 operations, random names, nested paged lists with literal, null, omitted
// and variable limits and offsets, extremes included), sent again and again under different
// operationNames in each form (POST, GET, batch, persisted). For every request the server accepts:
//   - the operation that ran (read from the response: every root field carries its operation's
//     alias prefix) is the one requested, and the one the cost hook priced (a test-only
//     onResolution hook reads the pinned operation and its cost);
//   - objects returned <= cost; bytes sent <= 256 + 2048 x cost (a point buys at most one value of
//     at most 254 characters, JSON-escaped, or 1,000 characters of a post's body at 10 points);
//   - SQL rows returned <= cost; SQL rows read, skipped ones included, <= OFFSET_ROWS_PER_POINT x cost.
// A request refused before execution runs no SQL. Fixed seed; a failure prints the shrunk case.
import fc from 'fast-check'
import { beforeAll, expect, it } from 'vitest'
import type { QueryEvent } from '../../src/db/database.js'
import { OFFSET_ROWS_PER_POINT } from '../../src/graphql/limits/complexity.js'
import { token, useTestApp } from '../helpers/app.js'
import { FORMS, send, type Form } from './forms.js'

// the repository cache off: every read reaches SQL, where it is counted
const t = useTestApp({ MAX_BATCH: '5', PERSISTED_QUERIES: 'automatic', CACHE_TTL_SECONDS: '0' })
const statements: QueryEvent[] = []
beforeAll(() => { t.app.db.onQuery((e) => { statements.push(e) }) })

// a page argument: omitted, a literal (extremes included), null, or a variable with such a value
const NUMBERS = [-1, 0, 1, 2, 3, 10, 99, 100, 101, 2999, 100_000, 100_001]
type Arg = { kind: 'omit' } | { kind: 'literal', value: number | null } | { kind: 'variable', value: number | null | undefined }
const arg: fc.Arbitrary<Arg> = fc.oneof(
  fc.constant({ kind: 'omit' as const }),
  fc.record({ kind: fc.constant('literal' as const), value: fc.oneof(fc.constantFrom(...NUMBERS), fc.constant(null)) }),
  fc.record({ kind: fc.constant('variable' as const), value: fc.oneof(fc.constantFrom(...NUMBERS), fc.constant(null), fc.constant(undefined)) })
)
const page = fc.record({ limit: arg, offset: arg })
type Page = { limit: Arg, offset: Arg }
type Field =
  | { kind: 'posts', page: Page, title: boolean, author?: { page: Page } }
  | { kind: 'users', page: Page, posts?: { page: Page, body: boolean } }
  | { kind: 'user' | 'typename' }
const field: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ kind: fc.constant('posts' as const), page, title: fc.boolean(), author: fc.option(fc.record({ page }), { nil: undefined }) }),
  fc.record({ kind: fc.constant('users' as const), page, posts: fc.option(fc.record({ page, body: fc.boolean() }), { nil: undefined }) }),
  fc.record({ kind: fc.constantFrom('user' as const, 'typename' as const) })
)
const operation = fc.record({ mutation: fc.constantFrom(false, false, false, true), fields: fc.array(field, { minLength: 1, maxLength: 3 }) })
const NAMES = ['A', 'B', 'Feed', 'Make']
const documentArb = fc.record({
  operations: fc.array(operation, { minLength: 1, maxLength: 3 }),
  anonymous: fc.boolean(),
  sends: fc.array(fc.record({ pick: fc.oneof({ weight: 4, arbitrary: fc.nat(2) }, { weight: 1, arbitrary: fc.constantFrom('missing' as const, 'none' as const) }), form: fc.constantFrom<Form>(...FORMS) }), { minLength: 1, maxLength: 4 })
})

/** the document's text and variables; op i is named NAMES[i] and its root fields are aliased o<i>_<k> */
function render (doc: { operations: Array<{ mutation: boolean, fields: Field[] }>, anonymous: boolean }) {
  const texts: string[] = []
  const variables: Array<Record<string, unknown>> = []
  doc.operations.forEach((op, i) => {
    const defs: string[] = []
    const vars: Record<string, unknown> = {}
    const args = (p: Page) => {
      const out: string[] = []
      for (const key of ['limit', 'offset'] as const) {
        const a = p[key]
        if (a.kind === 'literal') out.push(`${key}: ${a.value}`)
        if (a.kind === 'variable') {
          const v = `v${defs.length}`
          defs.push(`$${v}: Int`)
          if (a.value !== undefined) vars[v] = a.value
          out.push(`${key}: $${v}`)
        }
      }
      return out.length ? `(${out.join(', ')})` : ''
    }
    const fields = op.mutation ? [] : op.fields.map((f, k) => {
      const alias = `o${i}_${k}`
      if (f.kind === 'posts') return `${alias}: posts${args(f.page)} { id ${f.title ? 'title' : ''} ${f.author ? `author { name posts${args(f.author.page)} { id } }` : ''} }`
      if (f.kind === 'users') return `${alias}: users${args(f.page)} { id name ${f.posts ? `posts${args(f.posts.page)} { id ${f.posts.body ? 'body' : ''} }` : ''} }`
      if (f.kind === 'user') return `${alias}: user(id: "2") { id name }`
      return `${alias}: __typename`
    })
    // a mutation: createPost, its selection paged like the rest
    const first = op.fields[0]
    if (op.mutation) fields.push(`o${i}_w: createPost(input: { title: "generated", body: "b" }) { id author { posts${first.kind === 'posts' || first.kind === 'users' ? args(first.page) : ''} { id } } }`)
    const single = doc.operations.length === 1 && doc.anonymous
    texts.push(`${op.mutation ? 'mutation' : 'query'}${single ? '' : ` ${NAMES[i]}`}${defs.length ? `(${defs.join(', ')})` : ''} { ${fields.join(' ')} }`)
    variables.push(vars)
  })
  return { query: texts.join('\n'), variables }
}

const objects = (value: unknown): number => Array.isArray(value)
  ? value.reduce((n: number, v) => n + objects(v), 0)
  : value !== null && typeof value === 'object' ? 1 + Object.values(value).reduce((n: number, v) => n + objects(v), 0) : 0

function sqlWork (events: QueryEvent[]) {
  let rows = 0
  let read = 0
  for (const e of events) {
    const returned = e.rows ?? 0
    rows += returned
    read += returned
    // skipped rows: OFFSET of a list ($2), or of each author's page ($3 for $1 authors)
    if (e.name === 'posts_list' || e.name === 'users_list') read += Number(e.values?.[1] ?? 0)
    if (e.name === 'posts_by_authors') read += Number(e.values?.[2] ?? 0) * (e.values?.[0] as unknown[]).length
  }
  return { rows, read }
}

it('for every accepted request, the operation priced is the one that ran, and its price bounds its work', async () => {
  const writer = token('9')
  // the property must not hold vacuously: requests accepted in every form, from multi-operation documents
  const accepted: Record<string, number> = { POST: 0, GET: 0, batch: 0, persisted: 0, multi: 0, refused: 0, maxCost: 0 }
  await fc.assert(fc.asyncProperty(documentArb, async (doc) => {
    const { query, variables } = render(doc)
    const count = doc.operations.length
    const names = count === 1 && doc.anonymous ? [undefined] : NAMES.slice(0, count)
    for (const s of doc.sends) {
      const index = s.pick === 'missing' || s.pick === 'none' ? -1 : s.pick % count
      const operationName = s.pick === 'missing' ? 'Nope' : s.pick === 'none' ? undefined : names[index]
      // with no name, the only operation runs; several and no name, or a missing name, is refused
      const expected = index >= 0 ? index : s.pick === 'none' && count === 1 ? 0 : -1
      statements.length = 0
      const res = await send(t.app, s.form, { query, operationName, variables: expected >= 0 ? variables[expected] : variables[0] }, writer)
      const sql = sqlWork(statements)
      // named in every failure, with the shrunk case fast-check prints
      const request = `${s.form} operationName=${String(operationName)} variables=${JSON.stringify(variables[Math.max(expected, 0)])}\n${query}`
      if (!res.seen) {
        // refused before execution: nothing ran
        expect(sql, request).toEqual({ rows: 0, read: 0 })
        if (expected < 0) expect(res.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED')
        accepted.refused++
        const code = String(res.status) + ':' + String(res.body.errors?.[0]?.extensions?.code)
        accepted[code] = (accepted[code] ?? 0) + 1


        continue
      }
      expect(expected, request).toBeGreaterThanOrEqual(0)
      const cost = res.seen.cost!
      accepted[s.form]++
      if (count > 1) accepted.multi++
      accepted.maxCost = Math.max(accepted.maxCost, cost)
      // what ran: the alias prefixes of the data and of the errors' paths
      const ran = new Set([...Object.keys(res.body.data ?? {}), ...(res.body.errors ?? []).map((e: { path?: string[] }) => e.path?.[0])]
        .filter((k): k is string => typeof k === 'string').map((k) => k.split('_')[0]))
      expect({ ran: [...ran], priced: res.seen.name }, request).toEqual({ ran: [`o${expected}`], priced: names[expected] })
      expect(objects(res.body.data), request).toBeLessThanOrEqual(cost)
      expect(res.bytes, request).toBeLessThanOrEqual(256 + 2048 * cost)
      expect(sql.rows, request).toBeLessThanOrEqual(cost)
      expect(sql.read, request).toBeLessThanOrEqual(OFFSET_ROWS_PER_POINT * cost)
    }
  }), { seed: 20261129, numRuns: 100 })
  process.stderr.write(`[security] price-bounds-work: ${JSON.stringify(accepted)}\n`)
  for (const form of FORMS) expect(accepted[form]).toBeGreaterThan(20)
  expect(accepted.multi).toBeGreaterThan(30)
  expect(accepted.refused).toBeGreaterThan(10)
}, 120_000)
