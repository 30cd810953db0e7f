// GraphQL variables are free-form, so pino's path-based `redact` cannot name them in advance:
// this walks the object and hides every value whose key looks like a credential, at any depth.
// Used as pino's serializer for `variables`, so every log line that carries them is covered.
// Sizes are bounded too (a body may hold a megabyte of variables): long strings are cut, long
// arrays and objects keep their first entries.
import { bounded } from '../http-errors.js'

// `auth` only as the whole name: as a part of one it would hide names that merely begin with it
const SECRET_KEY = /pass(word|wd|phrase)?|pwd|secret|token|jwt|bearer|session|^auth$|authorization|cookie|api[-_]?key|credential|private[-_]?key/i
const MAX_DEPTH = 8
export const CENSOR = '[redacted]'
const STRING_MAX = 200
const ENTRIES_MAX = 50

export function redactVariables (value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return bounded(value, STRING_MAX)
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) return CENSOR
  if (Array.isArray(value)) return value.slice(0, ENTRIES_MAX).map((v) => redactVariables(v, depth + 1))
  const out: Record<string, unknown> = {}
  let n = 0
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue
    if (++n > ENTRIES_MAX) break
    const name = bounded(key, STRING_MAX)!
    out[name] = SECRET_KEY.test(key) ? CENSOR : redactVariables((value as Record<string, unknown>)[key], depth + 1)
  }
  return out
}
