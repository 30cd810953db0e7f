// Sends one operation and makes its checks, tagged with the operation's name and kind so that
// thresholds and the summary can tell the operations apart.
import http from 'k6/http'
import { check } from 'k6'
import { config } from './config.js'
import { checksFor } from './checks.js'
import { buildRequest } from './operations.js'

// A hostile operation succeeds when the server rejects it: 400 is its expected status, so its
// rejections do not count in http_req_failed (and a 200 would).
const REJECTED = http.expectedStatuses(400)

/**
 * @param {import('./operations.js').Operation} op
 * @param {import('./operations.js').Ctx} ctx
 */
export function send (op, ctx) {
  const req = buildRequest(op, ctx, config)
  /** @type {import('k6/http').Params} */
  const params = { headers: req.headers, tags: req.tags, timeout: '30s' }
  // set only for hostile operations: an explicit null or undefined would turn the metric off
  if (op.expect.status === 400) params.responseCallback = REJECTED
  const res = http.post(req.url, req.body, params)
  const ok = check(res, checksFor(op, req.variables), req.tags)
  return { res, ok }
}
