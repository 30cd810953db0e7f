import type { MutationResolvers, QueryResolvers } from '../generated.js'
import { check, page } from '../validation.js'

export const Query: Pick<QueryResolvers, 'posts' | 'post'> = {
  posts: (_, args, ctx) => {
    const { limit, offset } = page(args)
    return ctx.posts.list(limit, offset)
  },
  post: (_, { id }, ctx) => ctx.posts.findById(check('id', id))
}

export const Mutation: Pick<MutationResolvers, 'createPost'> = {
  // @auth(requires: USER) guarantees a caller.
  createPost: (_, { input }, ctx) =>
    ctx.posts.create(ctx.caller!.sub, { title: check('title', input.title), body: check('body', input.body) })
}
