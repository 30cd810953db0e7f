// A deterministic demo data set. Idempotent: users are keyed by email, and only users inserted
// by this run get posts, so a second run inserts nothing.
import { createScriptDatabase, type Queryable } from './database.js'
import type pg from 'pg'

const FIRST = ['Ada', 'Alan', 'Barbara', 'Claude', 'Dennis', 'Edsger', 'Frances', 'Grace', 'Ken', 'Leslie',
  'Margaret', 'Niklaus', 'Radia', 'Tim', 'Vint', 'Whitfield', 'Xiao', 'Yukihiro', 'Zhang', 'Hedy']
const LAST = ['Lovelace', 'Turing', 'Liskov', 'Shannon', 'Ritchie', 'Dijkstra', 'Allen', 'Hopper', 'Thompson',
  'Lamport', 'Hamilton', 'Wirth', 'Perlman', 'Berners-Lee', 'Cerf']
const TOPICS = ['caching', 'indexes', 'backpressure', 'retries', 'timeouts', 'observability', 'migrations',
  'rate limits', 'GraphQL', 'connection pools']

export interface SeedOptions { users?: number, postsPerUser?: number }

export async function seed (db: Queryable, { users = 300, postsPerUser = 10 }: SeedOptions = {}) {
  const names: string[] = []
  const emails: string[] = []
  const created: string[] = []
  const base = Date.UTC(2025, 0, 1)
  for (let i = 0; i < users; i++) {
    names.push(`${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]}`)
    emails.push(`user${i + 1}@example.com`)
    created.push(new Date(base + i * 3_600_000).toISOString())
  }
  const inserted = await db.query<{ id: string, created_at: Date }>('seed_users', `
    INSERT INTO users (name, email, created_at)
    SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
    ON CONFLICT ((lower(email))) DO NOTHING
    RETURNING id, created_at`, [names, emails, created])

  const authors: string[] = []
  const titles: string[] = []
  const bodies: string[] = []
  const times: string[] = []
  for (const [u, row] of inserted.rows.entries()) {
    for (let p = 0; p < postsPerUser; p++) {
      const topic = TOPICS[(u + p) % TOPICS.length]
      authors.push(row.id)
      titles.push(`Notes on ${topic} #${p + 1}`)
      bodies.push(`What we learned about ${topic} in production, part ${p + 1}.`)
      times.push(new Date(row.created_at.getTime() + (p + 1) * 60_000).toISOString())
    }
  }
  if (authors.length > 0) {
    await db.query('seed_posts', `
      INSERT INTO posts (author_id, title, body, created_at)
      SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[])`, [authors, titles, bodies, times])
  }
  return { users: inserted.rowCount ?? 0, posts: authors.length }
}

/** what a seed run wrote: anything at all (the embedded database's first start logs it) */
export function seededAny (seeded: Awaited<ReturnType<typeof seed>>): boolean {
  return seeded.users > 0
}

/** the database holds no demo data (development on your own server: suggest `npm run seed`) */
export async function unseeded (db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ empty: boolean }>('empty', 'SELECT NOT EXISTS (SELECT 1 FROM users) AS empty')
  return rows[0].empty
}

/** Seeds the database at `connection` in one transaction (npm run seed, test templates, the bench). */
export async function seedDatabase (connection: string | pg.ClientConfig, opts: SeedOptions & { connectTimeoutMs?: number } = {}) {
  const db = createScriptDatabase(connection, opts.connectTimeoutMs)
  try {
    return await db.transaction((tx) => seed(tx, opts))
  } finally {
    await db.close()
  }
}
