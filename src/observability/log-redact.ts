// Credentials out of every log line, as pino's `formatters.log` (and its `onChild` hook, for child
// loggers' bindings): the authorization/cookie/set-cookie/x-api-key headers under `headers`, `req.headers`
// and `res.headers`, and the `password`, `token` and `secret` keys of any top-level object.
//
// Hand-written instead of pino's `redact` paths (https://getpino.io/#/docs/redaction) because of
// what they cost here: the wildcard paths ('*.password') make pino run @pinojs/redact on every
// top-level value of every line, and on the request id of every per-request child logger, and it
// re-parses its paths on each call: 12.7% of all bytes allocated per request under the bench's
// main query (docs/performance.md). This checks a few own keys and copies an object only when it
// does hold a credential, which almost no line does.
import { pino, type Logger } from 'pino'
import { CENSOR } from './redact.js'

const SECRET_KEYS = ['password', 'token', 'secret']
const SECRET_HEADERS = ['authorization', 'cookie', 'set-cookie', 'x-api-key']
// `headers` is a top-level object too: the wildcard keys apply to it as well
const HEADER_KEYS = [...SECRET_HEADERS, ...SECRET_KEYS]

type Obj = Record<string, unknown>

function holds (value: object, keys: readonly string[]): boolean {
  for (const key of keys) if (Object.hasOwn(value, key)) return true
  return false
}

/**
 * A copy of `value` with the same prototype and own properties (so a serializer that runs after
 * this, e.g. pino's for `err`, sees an Error and its message and stack) and `keys` it has censored.
 */
function censor<T extends object> (value: T, keys: readonly string[], headers?: object): T {
  const descriptors: PropertyDescriptorMap = Object.getOwnPropertyDescriptors(value)
  // own accessors read as values: V8's Error `stack` getter answers only for the error itself
  for (const [key, d] of Object.entries(descriptors)) {
    if (d.get) descriptors[key] = { value: (value as Obj)[key], enumerable: d.enumerable, writable: true, configurable: true }
  }
  const copy = Object.create(Object.getPrototypeOf(value) as object | null, descriptors) as Obj
  for (const key of keys) if (Object.hasOwn(copy, key)) Object.defineProperty(copy, key, { value: CENSOR, enumerable: true, writable: true, configurable: true })
  if (headers) copy.headers = headers
  return copy as T
}

function redactValue (key: string, value: object): object {
  if (key === 'headers') return holds(value, HEADER_KEYS) ? censor(value, HEADER_KEYS) : value
  if (key === 'req' || key === 'res') {
    const headers = (value as Obj).headers
    const redacted = typeof headers === 'object' && headers !== null && holds(headers, SECRET_HEADERS) ? censor(headers, SECRET_HEADERS) : undefined
    return redacted || holds(value, SECRET_KEYS) ? censor(value, SECRET_KEYS, redacted) : value
  }
  return holds(value, SECRET_KEYS) ? censor(value, SECRET_KEYS) : value
}

/** the line's object, itself when nothing in it needs hiding (the common case: no copy) */
export function redactLine (obj: Obj): Obj {
  let out = obj
  for (const key in obj) {
    const value = obj[key]
    if (typeof value !== 'object' || value === null || !Object.hasOwn(obj, key)) continue
    const redacted = redactValue(key, value)
    if (redacted === value) continue
    if (out === obj) out = { ...obj }
    out[key] = redacted
  }
  return out
}

const { chindingsSym } = pino.symbols
// a key the formatter hides, as JSON writes it
const BOUND_SECRET = new RegExp(`"(${HEADER_KEYS.join('|')})":`)

/**
 * pino's `onChild`: a child logger's bindings are serialized once, when it is made (pino applies
 * no log formatter to them). The string is searched, not parsed: Fastify makes a child per request
 * and binds only its id; one that does bind a credential gets its bindings re-serialized, redacted.
 */
export function redactBindings (child: Logger): void {
  const target = child as unknown as Record<symbol, string>
  const bound = target[chindingsSym]
  if (!BOUND_SECRET.test(bound)) return
  const redacted = redactLine(JSON.parse(`{${bound.slice(1)}}`) as Obj)
  target[chindingsSym] = `,${JSON.stringify(redacted).slice(1, -1)}`
}

type SerializedError = ReturnType<typeof pino.stdSerializers.err> & { command?: { name?: unknown, args?: unknown } }

/**
 * pino's `err` serializer, less a failed command's arguments: ioredis puts them on the errors it
 * raises (`err.command.args`), and an AUTH carries the password, other commands keys and cached
 * values. The command's name stays.
 */
export function serializeError (err: Error): SerializedError {
  const out = pino.stdSerializers.err(err) as SerializedError
  withoutCommandArgs(out, 0)
  return out
}

// pino serializes an error's `cause`, its `aggregateErrors` and error-valued properties with its own
// serializer: the arguments come out of those too (a few levels: errors nest shallowly)
function withoutCommandArgs (value: unknown, depth: number) {
  if (depth > 4 || typeof value !== 'object' || value === null) return
  const e = value as SerializedError & Obj
  if (typeof e.command === 'object' && e.command !== null && 'args' in e.command) e.command = { name: e.command.name }
  for (const key of Object.keys(e)) if (key !== 'command') withoutCommandArgs(e[key], depth + 1)
}
