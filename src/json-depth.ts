// The nesting depth of a JSON text, counted before it is parsed: JSON.parse (and secure-json-parse,
// which Fastify uses) has no depth limit, and a reviver only runs after the whole text is parsed,
// so a 450,000-deep array in an unused variable was built in full before anything could refuse it.
// No maintained npm package checks depth without parsing; this is one linear pass over the text.

/** true when `text` nests arrays or objects deeper than `max` (brackets inside strings do not count) */
export function deeperThan (text: string, max: number): boolean {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34) { // a string: jump to its closing quote (indexOf is native, strings may be long)
      let end = i
      for (;;) {
        end = text.indexOf('"', end + 1)
        if (end === -1) return false // unterminated: the parser refuses it
        let backslashes = 0
        while (text.charCodeAt(end - 1 - backslashes) === 92) backslashes++
        if (backslashes % 2 === 0) break // not an escaped quote
      }
      i = end
    } else if (c === 91 || c === 123) { // [ {
      if (++depth > max) return true
    } else if (c === 93 || c === 125) { // ] }
      depth--
    }
  }
  return false
}
