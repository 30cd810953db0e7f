// All SQL for users. Parameters only; statement names make them prepared statements on PostgreSQL.
import type { Queryable } from '../../db/database.js'

export interface UserRow { id: string, name: string, email: string, createdAt: string }

const COLUMNS = `id::text AS id, name, email,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt"`

export class DuplicateEmailError extends Error {}

function rethrowDuplicate (err: unknown): never {
  if ((err as { code?: string }).code === '23505') throw new DuplicateEmailError('email already in use')
  throw err
}

export function usersRepository (db: Queryable) {
  return {
    async findById (id: string): Promise<UserRow | null> {
      const { rows } = await db.query<UserRow>('users_by_id', `SELECT ${COLUMNS} FROM users WHERE id = $1`, [id])
      return rows[0] ?? null
    },
    async findByIds (ids: readonly string[]): Promise<UserRow[]> {
      const { rows } = await db.query<UserRow>('users_by_ids', `SELECT ${COLUMNS} FROM users WHERE id = ANY($1::bigint[])`, [ids])
      return rows
    },
    async list (limit: number, offset: number): Promise<UserRow[]> {
      const { rows } = await db.query<UserRow>('users_list', `SELECT ${COLUMNS} FROM users ORDER BY users.id LIMIT $1 OFFSET $2`, [limit, offset])
      return rows
    },
    async create (input: { name: string, email: string }): Promise<UserRow> {
      const { rows } = await db.query<UserRow>('users_create',
        `INSERT INTO users (name, email) VALUES ($1, $2) RETURNING ${COLUMNS}`, [input.name, input.email]
      ).catch(rethrowDuplicate)
      return rows[0]
    },
    async update (id: string, input: { name?: string | null, email?: string | null }): Promise<UserRow | null> {
      const { rows } = await db.query<UserRow>('users_update', `
        UPDATE users SET name = COALESCE($2, name), email = COALESCE($3, email), updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`, [id, input.name ?? null, input.email ?? null]
      ).catch(rethrowDuplicate)
      return rows[0] ?? null
    },
    async delete (id: string): Promise<boolean> {
      const { rowCount } = await db.query('users_delete', 'DELETE FROM users WHERE id = $1', [id])
      return (rowCount ?? 0) > 0
    }
  }
}

export type UsersRepository = ReturnType<typeof usersRepository>
