// What the benchmark sends. MAIN_QUERY is the k6 suite's main query (the production-readiness), run with an admin token.
export const MAIN_QUERY = '{ users(limit: 10) { id name email } }'

const userWithPosts = (id: number) => JSON.stringify({ query: `{ user(id: "${id}") { id name posts(limit: 5) { id title } } }` })
const postsWithAuthors = (offset: number) => JSON.stringify({ query: `{ posts(limit: 10, offset: ${offset}) { id title author { id name } } }` })
const createPost = JSON.stringify({
  query: 'mutation ($input: CreatePostInput!) { createPost(input: $input) { id } }',
  variables: { input: { title: 'bench', body: 'written by npm run bench' } }
})

/** 20 requests in a cycle: user by id with posts, posts with authors, and 1 mutation (5%). */
export const MIXED = [
  ...Array.from({ length: 19 }, (_, i) => ({ body: i % 2 === 0 ? userWithPosts(1 + i * 7) : postsWithAuthors(i * 10) })),
  { body: createPost }
]
