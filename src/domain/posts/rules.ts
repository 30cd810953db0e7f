// The posts' input rules, checked before any SQL runs (with the shared id, limit and offset).
import { checker, text } from '../../graphql/validation.js'

export const check = checker({
  title: text(1, 200),
  body: text(0, 10_000)
})
