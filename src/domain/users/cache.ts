// The users' reads, cached (src/cache/two-level.ts), and the tags their writes make stale.
// Rows are cached as the database returns them, before any field is resolved: what depends on
// the caller (User.email) is decided by @auth on every request, so no entry can leak it.
import { orderedList, type Cache } from '../../cache/two-level.js'
import type { MaybePromise } from '../../graphql/domain.js'
import type { UserRow, UsersRepository } from './repository.js'

/** What each write makes stale. Resolvers call ctx.invalidate(tags) once their write has committed. */
export const staleAfter = {
  // the list is read in id order (orderedList): a create drops its end, an update the page holding the row
  userCreated: (id: string) => [...orderedList.inserted('users', id), `user:${id}`],
  userUpdated: (id: string) => [`user:${id}`],
  // the user's posts go with them (ON DELETE CASCADE)
  userDeleted: (id: string) => ['users', `user:${id}`, `author:${id}`, 'posts']
}

export type CachedUsersRepository = Omit<UsersRepository, 'findById' | 'list'> & {
  findById (id: string): MaybePromise<UserRow | null>
  list (limit: number, offset: number): MaybePromise<UserRow[]>
}

function byIdsInOrder (ids: string[], rows: UserRow[]): Array<UserRow | null> {
  const byId = new Map(rows.map((r) => [r.id, r]))
  return ids.map((id) => byId.get(id) ?? null)
}

export function cachedUsers (cache: Cache, users: UsersRepository): CachedUsersRepository {
  return {
    ...users,
    findById: (id) => cache.get('user', id, () => users.findById(id), () => [`user:${id}`]),
    findByIds: async (ids) => (await cache.many('user', [...ids], async (missing) => byIdsInOrder(missing, await users.findByIds(missing)),
      (_row, id) => [`user:${id}`])).filter((row): row is UserRow => row !== null),
    list: (limit, offset) => cache.get('users', `${limit}:${offset}`, () => users.list(limit, offset),
      (rows) => orderedList.pageTags('users', rows.map((r) => r.id), limit, (id) => `user:${id}`))
  }
}
