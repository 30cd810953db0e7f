// GraphQL variables are free-form, so pino's path-based `redact` cannot name them in advance:
// this walks the object and hides every value whose key looks like a credential, at any depth.
// Used as pino's serializer for `variables`, so every log line that carries them is covered.
const SECRET_KEY = /pass(word|wd|phrase)?|secret|token|authorization|cookie|api[-_]?key|credential|private[-_]?key/i
const MAX_DEPTH = 8
export const CENSOR = '[redacted]'

export function redactVariables (value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) return CENSOR
  if (Array.isArray(value)) return value.map((v) => redactVariables(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? CENSOR : redactVariables(v, depth + 1)
  }
  return out
}
