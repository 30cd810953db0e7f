// All SQL for posts.
import type { Queryable } from '../../db/database.js'

/** `body` (up to 10,000 characters) is read by lists only when selected: absent, the Post.body loader reads it */
export interface PostRow { id: string, title: string, body?: string, createdAt: string, authorId: string }

const LIST_COLUMNS = `p.id::text AS id, p.title, p.author_id::text AS "authorId",
  to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt"`
const COLUMNS = `${LIST_COLUMNS}, p.body`

/** the author does not exist (any more): the caller's account was deleted */
export class UnknownAuthorError extends Error {}

function rethrowUnknownAuthor (err: unknown): never {
  if ((err as { code?: string }).code === '23503') throw new UnknownAuthorError('author does not exist')
  throw err
}

export function postsRepository (db: Queryable) {
  return {
    async findById (id: string): Promise<PostRow | null> {
      const { rows } = await db.query<PostRow>('posts_by_id', `SELECT ${COLUMNS} FROM posts p WHERE p.id = $1`, [id])
      return rows[0] ?? null
    },
    async list (limit: number, offset: number): Promise<PostRow[]> {
      const { rows } = await db.query<PostRow>('posts_list', `SELECT ${LIST_COLUMNS} FROM posts p ORDER BY p.id LIMIT $1 OFFSET $2`, [limit, offset])
      return rows
    },
    /** The newest posts of each author, in the order of authorIds: one statement for many authors (User.posts loader). */
    async listByAuthors (authorIds: readonly string[], limit: number, offset: number): Promise<PostRow[][]> {
      const { rows } = await db.query<PostRow>('posts_by_authors', `
        SELECT ${LIST_COLUMNS} FROM unnest($1::bigint[]) AS a(id)
        CROSS JOIN LATERAL (
          SELECT * FROM posts WHERE author_id = a.id ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3
        ) p`, [authorIds, limit, offset])
      const byAuthor = new Map<string, PostRow[]>(authorIds.map((id) => [id, []]))
      for (const row of rows) byAuthor.get(row.authorId)?.push(row)
      return authorIds.map((id) => byAuthor.get(id)!)
    },
    /** the bodies of the given posts, in their order (undefined: deleted since) */
    async bodies (ids: readonly string[]): Promise<Array<string | undefined>> {
      const { rows } = await db.query<{ id: string, body: string }>('posts_bodies', 'SELECT id::text AS id, body FROM posts WHERE id = ANY($1::bigint[])', [ids])
      const byId = new Map(rows.map((r) => [r.id, r.body]))
      return ids.map((id) => byId.get(id))
    },
    async create (authorId: string, input: { title: string, body: string }): Promise<PostRow> {
      const { rows } = await db.query<PostRow>('posts_create', `
        INSERT INTO posts AS p (author_id, title, body) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
      [authorId, input.title, input.body]).catch(rethrowUnknownAuthor)
      return rows[0]
    }
  }
}

export type PostsRepository = ReturnType<typeof postsRepository>
