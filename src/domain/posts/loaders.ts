// Relations are batched: one statement per level of the query, never one per row.
// https://mercurius.dev/#/docs/loaders
import type { PostRow } from './repository.js'
import type { Loaders } from '../generated.js'
import { page } from '../../graphql/validation.js'

export const loaders: Loaders = {
  User: {
    async posts (queries, ctx) {
      // Group by (limit, offset): usually one group, one statement.
      const groups = new Map<string, { limit: number, offset: number, ids: string[] }>()
      const keys = queries.map(({ obj, params }) => {
        const p = page(params)
        const key = `${p.limit}:${p.offset}`
        const group = groups.get(key) ?? groups.set(key, { ...p, ids: [] }).get(key)!
        group.ids.push(obj.id)
        return key
      })
      const byGroup = new Map<string, Map<string, PostRow[]>>()
      await Promise.all([...groups].map(async ([key, g]) => {
        const ids = [...new Set(g.ids)]
        const lists = await ctx.posts.listByAuthors(ids, g.limit, g.offset)
        byGroup.set(key, new Map(ids.map((id, i) => [id, lists[i]])))
      }))
      return queries.map(({ obj }, i) => byGroup.get(keys[i])!.get(obj.id) ?? [])
    }
  },
  Post: {
    // lists read posts without their body (up to 10 KB each), so selecting only ids reads no bodies:
    // the bytes read stay within the price, where body costs 10
    async body (queries, ctx) {
      const missing = [...new Set(queries.filter(({ obj }) => obj.body === undefined).map(({ obj }) => obj.id))]
      const read = missing.length ? await ctx.posts.bodies(missing) : []
      const byId = new Map(missing.map((id, i) => [id, read[i]]))
      return queries.map(({ obj }) => obj.body ?? byId.get(obj.id) ?? '')
    },
    async author (queries, ctx) {
      const rows = await ctx.users.findByIds([...new Set(queries.map(({ obj }) => obj.authorId))])
      const byId = new Map(rows.map((u) => [u.id, u]))
      return queries.map(({ obj }) => byId.get(obj.authorId)!)
    }
  }
}
