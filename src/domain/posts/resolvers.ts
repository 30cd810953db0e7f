import { gqlError } from '../../error-codes.js'
import { UnknownAuthorError } from './repository.js'
import type { MutationResolvers, QueryResolvers } from '../generated.js'
import { countCreated } from '../../observability/business.js'
import { staleAfter } from './cache.js'
import { idempotent } from '../../graphql/idempotency.js'
import { page } from '../../graphql/validation.js'
import { check } from './rules.js'

export const Query: Pick<QueryResolvers, 'posts' | 'post'> = {
  posts: (_, args, ctx) => {
    const { limit, offset } = page(args)
    return ctx.posts.list(limit, offset)
  },
  post: (_, { id }, ctx) => ctx.posts.findById(check('id', id))
}

// a valid token whose user has since been deleted: the identity is gone, sign in again
function goneCaller (err: unknown): never {
  if (err instanceof UnknownAuthorError) throw gqlError('UNAUTHENTICATED', 'the caller no longer exists')
  throw err
}

export const Mutation: Pick<MutationResolvers, 'createPost'> = {
  // @auth(requires: USER) guarantees a caller. Accepts an Idempotency-Key.
  createPost: async (_, args, ctx, info) => {
    const input = { title: check('title', args.input.title), body: check('body', args.input.body) }
    // counted once committed, not on a replay (src/observability/business.ts)
    const post = await countCreated(ctx, 'postsCreated', (written) =>
      idempotent(ctx, info, args, (repos) => repos.posts.create(ctx.caller!.sub, input).then(written))).catch(goneCaller)
    await ctx.invalidate(staleAfter.postCreated(post))
    return post
  }
}
