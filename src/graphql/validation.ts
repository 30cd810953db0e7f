// Input rules, checked before any SQL runs. A broken rule is BAD_USER_INPUT naming the field.
import { z } from 'zod'
import { gqlError } from '../error-codes.js'

// PostgreSQL text cannot hold NUL; the other C0 control characters (tab, newline and carriage
// return aside) have no place in a name or a post, and each one is six bytes in a JSON answer
// (\u0001), which would let stored text outgrow the bytes a query's price allows.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/
// A lone UTF-16 surrogate (JSON allows "\ud800") is not text: it would be stored as U+FFFD, so
// what is kept and returned would differ from what was sent (and hashed for Idempotency-Key).
const LONE_SURROGATE = /\p{Cs}/u
/** trimmed text of min..max characters without control characters or lone surrogates */
export const text = (min: number, max: number) => z.string().trim().min(min).max(max)
  .refine((s) => !CONTROL.test(s), 'must not contain control characters')
  .refine((s) => !LONE_SURROGATE.test(s), 'must be well-formed Unicode (no lone surrogates)')

/** the rules every domain shares; a domain adds its own fields (src/domain/<name>/rules.ts) */
export const rules = {
  id: z.string().regex(/^[1-9][0-9]{0,17}$/, 'must be a positive integer id'),
  limit: z.number().int().min(1).max(100),
  offset: z.number().int().min(0).max(100_000)
}

/**
 * A check for these rules (the shared ones included): parses `value` with the rule for `field`
 * and throws BAD_USER_INPUT naming that field, at the resolver's path.
 */
export function checker<R extends Record<string, z.ZodType>> (own: R) {
  const all = { ...rules, ...own } as typeof rules & R
  return function check<K extends keyof (typeof rules & R) & string> (field: K, value: unknown): z.output<(typeof rules & R)[K]> {
    const result = (all[field] as z.ZodType).safeParse(value)
    if (result.success) return result.data as z.output<(typeof rules & R)[K]>
    throw gqlError('BAD_USER_INPUT', `${field}: ${result.error.issues[0]?.message ?? 'invalid'}`, { field })
  }
}

const check = checker({})

/** the schema's defaults for `limit` and `offset` (test/security/cost-model.test.ts keeps them equal) */
export const PAGE_DEFAULTS = { limit: 10, offset: 0 } as const

export interface PageArgs { limit?: number | null, offset?: number | null }

/**
 * The page that runs: an omitted or null argument is its default. The cost model prices this same
 * page (src/graphql/limits/complexity.ts), so what runs is what is priced.
 */
export function pageArgs (args: PageArgs): { limit: unknown, offset: unknown } {
  return { limit: args.limit ?? PAGE_DEFAULTS.limit, offset: args.offset ?? PAGE_DEFAULTS.offset }
}

export function page (args: PageArgs) {
  const p = pageArgs(args)
  return { limit: check('limit', p.limit), offset: check('offset', p.offset) }
}
