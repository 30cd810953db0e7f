// The users' input rules, checked before any SQL runs (with the shared id, limit and offset).
import { z } from 'zod'
import { checker, text } from '../../graphql/validation.js'

export const check = checker({
  name: text(1, 100),
  email: z.string().trim().max(254).pipe(z.email())
})
