// Every GraphQL operation the suite sends, in one place. Pure JavaScript (no k6 import) so that CI
// validates each one against the server's schema and runs it against a real app in Node.
// `weight` is the share, out of 100, an operation has in the mixed workload.

/**
 * @typedef {object} Ctx  what varies between iterations
 * @property {string} run         this test run's id (unique keys and e-mails across runs)
 * @property {number} vu          VU number, from 1
 * @property {number} iter        the VU's iteration number, from 0
 * @property {string[]} userIds   users setup() created for this run (updateUser renames only these)
 * @property {number} userIdMax   read queries pick user ids 1..userIdMax
 *
 * @typedef {{ status: 200, shape: (data: any, variables: Record<string, any>) => boolean }} Accepted
 * @typedef {{ status: 400, code: string }} Rejected
 *
 * @typedef {object} Operation
 * @property {string} name       also the `op` tag on its requests and checks
 * @property {'query' | 'mutation' | 'hostile'} kind   also the `kind` tag
 * @property {number} weight
 * @property {string} query
 * @property {(ctx: Ctx) => Record<string, any>} [variables]
 * @property {boolean} [idempotent]   sends a unique Idempotency-Key per iteration
 * @property {Accepted | Rejected} expect
 */

const isString = (/** @type {unknown} */ v) => typeof v === 'string' && v.length > 0
/** @param {unknown} list @param {number} max @param {(item: any) => boolean} item */
const listOf = (list, max, item) => Array.isArray(list) && list.length <= max && list.every(item)

// 16 aliases: one more than MAX_ALIASES (15)
const ALIASES = Array.from({ length: 16 }, (_, i) => `a${i}: user(id: "1") { id }`).join(' ')
// depth 11 (the root field is depth 0, so `id` at the bottom is the 11th level), one over
// MAX_QUERY_DEPTH; every list has limit 1 so that depth, not cost, is what rejects it.
const DEEP = 'users(limit: 1) { posts(limit: 1) { author { posts(limit: 1) { author { posts(limit: 1) { author { posts(limit: 1) { author { posts(limit: 1) { author { id } } } } } } } } } } }'

/** @type {Operation[]} */
export const OPERATIONS = [
  {
    // the production-readiness main query, with an admin token (e-mails are visible to admins only)
    name: 'users', kind: 'query', weight: 50,
    query: 'query Users { users(limit: 10) { id name email } }',
    expect: { status: 200, shape: (d) => listOf(d.users, 10, (u) => isString(u.id) && isString(u.name) && isString(u.email)) && d.users.length > 0 }
  },
  {
    name: 'userWithPosts', kind: 'query', weight: 20,
    query: 'query UserWithPosts($id: ID!) { user(id: $id) { id name posts(limit: 5) { id title } } }',
    variables: (c) => ({ id: String(1 + (c.vu * 31 + c.iter * 7) % c.userIdMax) }),
    expect: { status: 200, shape: (d, v) => d.user !== null && d.user.id === v.id && isString(d.user.name) && listOf(d.user.posts, 5, (p) => isString(p.id) && isString(p.title)) }
  },
  {
    name: 'postsWithAuthors', kind: 'query', weight: 17,
    query: 'query PostsWithAuthors($offset: Int!) { posts(limit: 10, offset: $offset) { id title author { id name } } }',
    variables: (c) => ({ offset: ((c.vu * 13 + c.iter * 3) % 100) * 10 }),
    expect: { status: 200, shape: (d) => listOf(d.posts, 10, (p) => isString(p.id) && isString(p.title) && isString(p.author.id) && isString(p.author.name)) }
  },
  {
    name: 'createPost', kind: 'mutation', weight: 4, idempotent: true,
    query: 'mutation CreatePost($input: CreatePostInput!) { createPost(input: $input) { id title author { id } } }',
    variables: (c) => ({ input: { title: `k6 ${c.run} ${c.vu}.${c.iter}`, body: 'Written by the k6 load suite.' } }),
    expect: { status: 200, shape: (d, v) => isString(d.createPost.id) && d.createPost.title === v.input.title && isString(d.createPost.author.id) }
  },
  {
    name: 'createUser', kind: 'mutation', weight: 2, idempotent: true,
    query: 'mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id name email } }',
    variables: (c) => ({ input: { name: `k6 user ${c.vu}.${c.iter}`, email: `k6-${c.run}-${c.vu}-${c.iter}@example.com` } }),
    expect: { status: 200, shape: (d, v) => isString(d.createUser.id) && d.createUser.name === v.input.name && d.createUser.email === v.input.email }
  },
  {
    // renames only users this run created in setup(), never seeded or real ones
    name: 'updateUser', kind: 'mutation', weight: 2,
    query: 'mutation UpdateUser($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id name } }',
    variables: (c) => ({ id: c.userIds[c.vu % c.userIds.length], input: { name: `k6 user renamed ${c.vu}.${c.iter}` } }),
    expect: { status: 200, shape: (d, v) => d.updateUser.id === v.id && d.updateUser.name === v.input.name }
  },
  // Hostile: each must be rejected before execution with 400 and its code, under load too.
  { name: 'tooDeep', kind: 'hostile', weight: 1, query: `query TooDeep { ${DEEP} }`, expect: { status: 400, code: 'QUERY_TOO_DEEP' } },
  // cost 1 + 100 x (1 + 100 x 1) = 10101, over MAX_QUERY_COMPLEXITY (1000)
  { name: 'tooComplex', kind: 'hostile', weight: 1, query: 'query TooComplex { users(limit: 100) { posts(limit: 100) { id } } }', expect: { status: 400, code: 'QUERY_TOO_COMPLEX' } },
  { name: 'aliasFlood', kind: 'hostile', weight: 1, query: `query AliasFlood { ${ALIASES} }`, expect: { status: 400, code: 'QUERY_TOO_LARGE' } },
  { name: 'syntaxError', kind: 'hostile', weight: 1, query: 'query SyntaxError { users(limit: 10) { id name ', expect: { status: 400, code: 'GRAPHQL_PARSE_FAILED' } },
  { name: 'unknownField', kind: 'hostile', weight: 1, query: 'query UnknownField { users(limit: 10) { id password } }', expect: { status: 400, code: 'GRAPHQL_VALIDATION_FAILED' } }
]

/** @param {string} name */
export function operation (name) {
  const op = OPERATIONS.find((o) => o.name === name)
  if (!op) throw new Error(`no operation ${name}`)
  return op
}

export const ACCEPT = 'application/graphql-response+json, application/json;q=0.9'

/**
 * The HTTP request for one operation: the same in k6 and in the CI test that replays it.
 * @param {Operation} op
 * @param {Ctx} ctx
 * @param {{ graphqlUrl: string, token: string }} target
 */
export function buildRequest (op, ctx, target) {
  const variables = op.variables ? op.variables(ctx) : {}
  // what current GraphQL clients send: the server then answers request errors (the hostile
  // operations) with 4xx statuses; with `application/json` alone they would be 200 (docs/http.md)
  /** @type {Record<string, string>} */
  const headers = { 'content-type': 'application/json', accept: ACCEPT }
  if (target.token) headers.authorization = `Bearer ${target.token}`
  if (op.idempotent) headers['idempotency-key'] = `k6-${ctx.run}-${op.name}-${ctx.vu}-${ctx.iter}`
  return {
    url: target.graphqlUrl,
    body: JSON.stringify({ query: op.query, variables }),
    headers,
    variables,
    tags: { op: op.name, kind: op.kind }
  }
}

// The mixed workload as a deck of 100 slots, each operation `weight` times. A VU walks the deck
// with a stride coprime to its length, so every VU meets every operation within 100 iterations
// (even short runs exercise all of them) and VUs start at different places.
/** @type {Operation[]} */
const DECK = []
for (const op of OPERATIONS) for (let i = 0; i < op.weight; i++) DECK.push(op)
const gcd = (/** @type {number} */ a, /** @type {number} */ b) => { while (b) [a, b] = [b, a % b]; return a }
let STRIDE = Math.floor(DECK.length / 2) + 3
while (gcd(STRIDE, DECK.length) !== 1) STRIDE++

/** the operation VU `vu` sends on its iteration `iter` */
export function pick (/** @type {number} */ vu, /** @type {number} */ iter) {
  return DECK[(vu * 37 + iter * STRIDE) % DECK.length]
}
export const DECK_SIZE = DECK.length
