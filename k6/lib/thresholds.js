// Pass or fail, from the production-readiness performance targets: p(95) < 200 ms,
// p(99) < 500 ms, under 1% failed requests, and over 99% of checks passing; overall and for each
// operation (by its `op` tag), so a slow mutation cannot hide behind many fast reads.
// Hostile operations are sent with 400 as their expected status, so their rejections are not
// failed requests; they have no failure-rate threshold of their own (their checks say whether
// they were rejected with the right code).
import { OPERATIONS } from './operations.js'

export const TARGETS = { p95Ms: 200, p99Ms: 500, failedRate: 0.01, checksRate: 0.99 }

/**
 * @typedef {import('k6/options').Threshold} Threshold
 * @typedef {{ abortOnFail?: boolean, delayAbortEval?: string }} Abort
 */

/**
 * @param {Abort} [abort]  stress.js stops the run once the overall targets break (the knee)
 * @returns {Record<string, Threshold[]>}
 */
export function thresholds (abort) {
  /** @param {string[]} list @returns {Threshold[]} */
  const withAbort = (list) => abort && abort.abortOnFail
    ? list.map((threshold) => ({ threshold, abortOnFail: true, delayAbortEval: abort.delayAbortEval || '30s' }))
    : list
  const latency = [`p(95)<${TARGETS.p95Ms}`, `p(99)<${TARGETS.p99Ms}`]
  const failed = [`rate<${TARGETS.failedRate}`]
  const checks = [`rate>${TARGETS.checksRate}`]
  /** @type {Record<string, Threshold[]>} */
  const all = {
    http_req_duration: withAbort(latency),
    http_req_failed: withAbort(failed),
    checks: withAbort(checks)
  }
  for (const op of OPERATIONS) {
    all[`http_req_duration{op:${op.name}}`] = latency
    if (op.kind !== 'hostile') all[`http_req_failed{op:${op.name}}`] = failed
    all[`checks{op:${op.name}}`] = checks
  }
  return all
}

// Percentiles the summary (and its JSON) reports; p(50) is the table's median target (50 ms),
// shown for information.
export const SUMMARY_TREND_STATS = ['count', 'avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max']
