import { gqlError } from '../../error-codes.js'
import { DuplicateEmailError } from './repository.js'
import type { MutationResolvers, QueryResolvers } from '../generated.js'
import { countCreated } from '../../observability/business.js'
import { staleAfter } from './cache.js'
import { idempotent } from '../../graphql/idempotency.js'
import { page } from '../../graphql/validation.js'
import { check } from './rules.js'

function duplicate (err: unknown): never {
  if (err instanceof DuplicateEmailError) throw gqlError('BAD_USER_INPUT', 'email: already in use', { field: 'email' })
  throw err
}

export const Query: Pick<QueryResolvers, 'users' | 'user' | 'me'> = {
  users: (_, args, ctx) => {
    const { limit, offset } = page(args)
    return ctx.users.list(limit, offset)
  },
  user: (_, { id }, ctx) => ctx.users.findById(check('id', id)),
  me: (_, __, ctx) => ctx.caller ? ctx.users.findById(ctx.caller.sub) : null
}

export const Mutation: Pick<MutationResolvers, 'createUser' | 'updateUser' | 'deleteUser'> = {
  // Accepts an Idempotency-Key.
  createUser: async (_, args, ctx, info) => {
    const input = { name: check('name', args.input.name), email: check('email', args.input.email) }
    // counted once committed, not on a replay (src/observability/business.ts)
    const user = await countCreated(ctx, 'usersCreated', (written) =>
      idempotent(ctx, info, args, (repos) => repos.users.create(input).then(written))).catch(duplicate)
    await ctx.invalidate(staleAfter.userCreated(user.id))
    return user
  },
  async updateUser (_, { id, input }, ctx) {
    const changes = {
      name: input.name == null ? null : check('name', input.name),
      email: input.email == null ? null : check('email', input.email)
    }
    const user = await ctx.users.update(check('id', id), changes).catch(duplicate)
    if (!user) throw gqlError('NOT_FOUND', 'user not found')
    await ctx.invalidate(staleAfter.userUpdated(user.id))
    return user
  },
  async deleteUser (_, { id }, ctx) {
    const userId = check('id', id)
    if (!await ctx.users.delete(userId)) throw gqlError('NOT_FOUND', 'user not found')
    await ctx.invalidate(staleAfter.userDeleted(userId))
    return true
  }
}
