// The checks made on every response, by operation. Pure JavaScript: k6 passes them to check(),
// and the CI test runs the very same functions on responses from a real app.

/**
 * @typedef {import('./operations.js').Operation} Operation
 * @typedef {{ status: number, body: unknown }} Reply   the part of a k6 Response the checks read
 * @typedef {{ data?: any, errors?: Array<{ extensions?: { code?: string } }> }} Payload
 */

/** @param {Reply} r @returns {Payload | null} */
function payload (r) {
  if (typeof r.body !== 'string') return null
  try {
    const parsed = JSON.parse(r.body)
    return parsed !== null && typeof parsed === 'object' ? parsed : null
  } catch (e) {
    return null
  }
}

/**
 * Named checks for one response to `op` sent with `variables`. Accepted operations: status 200,
 * no `errors`, and the operation's expected shape. Hostile ones: status 400, the contract's error
 * code first, and nothing executed (no `data`).
 * @param {Operation} op
 * @param {Record<string, any>} variables
 * @returns {Record<string, (r: Reply) => boolean>}
 */
export function checksFor (op, variables) {
  /** @type {Payload | null | undefined} */
  let parsed
  // the body is parsed once per response, whichever check reads it first
  const body = (/** @type {Reply} */ r) => (parsed === undefined ? (parsed = payload(r)) : parsed)
  const expect = op.expect
  if (expect.status === 400) {
    return {
      'status is 400': (r) => r.status === 400,
      [`${op.name} rejected with ${expect.code}`]: (r) => {
        const b = body(r)
        const first = b !== null && Array.isArray(b.errors) ? b.errors[0] : undefined
        return b !== null && b.data == null && first !== undefined && first.extensions !== undefined && first.extensions.code === expect.code
      }
    }
  }
  const shape = expect.shape
  return {
    'status is 200': (r) => r.status === 200,
    'no GraphQL errors': (r) => { const b = body(r); return b !== null && b.errors === undefined },
    [`${op.name} has the expected shape`]: (r) => {
      const b = body(r)
      if (b === null || b.data == null) return false
      try {
        return shape(b.data, variables)
      } catch (e) {
        return false // a missing field deep inside is a failed check, not a crashed iteration
      }
    }
  }
}
