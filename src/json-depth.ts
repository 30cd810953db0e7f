// The nesting depth of a JSON text, counted before it is parsed: JSON.parse (and secure-json-parse,
// which Fastify uses) has no depth limit, and a reviver only runs after the whole text is parsed,
// so a 450,000-deep array in an unused variable was built in full before anything could refuse it.
// No maintained npm package checks depth without parsing; this is one linear pass over the text.

/** true when `text` nests arrays or objects deeper than `max` (brackets inside strings do not count) */
export function deeperThan (text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false // closing quote
    } else if (c === 34) {
      inString = true
    } else if (c === 91 || c === 123) { // [ {
      if (++depth > max) return true
    } else if (c === 93 || c === 125) { // ] }
      depth--
    }
  }
  return false
}
