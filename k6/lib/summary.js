// End-of-test summary, written here because jslib's textSummary is a remote import (which fails
// offline and behind firewalls). handleSummary prints a table per operation and the verdict, and
// writes the whole summary as JSON under RESULTS_DIR (k6 does not create the directory).
import { config } from './config.js'
import { OPERATIONS } from './operations.js'
import { TARGETS } from './thresholds.js'

/** @typedef {{ type?: string, values: Record<string, number>, thresholds?: Record<string, { ok: boolean }> }} Metric */
/** @typedef {{ metrics: Record<string, Metric>, state?: { testRunDurationMs?: number } }} SummaryData */

const pad = (/** @type {string} */ s, /** @type {number} */ n) => (s.length >= n ? s : s + ' '.repeat(n - s.length))
const lpad = (/** @type {string} */ s, /** @type {number} */ n) => (s.length >= n ? s : ' '.repeat(n - s.length) + s)
const ms = (/** @type {number | undefined} */ v) => (v === undefined ? '-' : v < 10 ? `${v.toFixed(1)}ms` : `${Math.round(v)}ms`)
const pct = (/** @type {number | undefined} */ v) => (v === undefined ? '-' : `${(v * 100).toFixed(2)}%`)

/** @param {SummaryData} data @param {string} name @param {string} stat */
function value (data, name, stat) {
  const m = data.metrics[name]
  return m && m.values ? m.values[stat] : undefined
}

/** every threshold k6 evaluated, as [metric, expression, ok] */
export function thresholdResults (/** @type {SummaryData} */ data) {
  /** @type {Array<[string, string, boolean]>} */
  const results = []
  for (const name of Object.keys(data.metrics).sort()) {
    const t = data.metrics[name].thresholds || {}
    for (const expr of Object.keys(t)) results.push([name, expr, t[expr].ok])
  }
  return results
}

/**
 * @param {string} scenario
 * @param {SummaryData} data
 * @param {string[]} [notes]  scenario-specific lines (stress: the rate reached)
 */
export function textSummary (scenario, data, notes = []) {
  const seconds = data.state && data.state.testRunDurationMs ? data.state.testRunDurationMs / 1000 : 0
  const lines = [
    '',
    `Bastion k6 ${scenario} against ${config.baseUrl}`,
    `  ran ${Math.floor(seconds / 60)}m${lpad(String(Math.round(seconds % 60)), 2)}s, ` +
      `${value(data, 'http_reqs', 'count') || 0} requests (${(value(data, 'http_reqs', 'rate') || 0).toFixed(1)}/s), ` +
      `${value(data, 'iterations', 'count') || 0} iterations, ${value(data, 'vus_max', 'max') || 0} VUs at most, ` +
      `${value(data, 'dropped_iterations', 'count') || 0} iterations dropped`,
    ''
  ]
  const header = [pad('operation', 18), pad('kind', 9), lpad('requests', 9), lpad('p50', 8), lpad('p95', 8), lpad('p99', 8), lpad('max', 9), lpad('failed', 8), lpad('checks', 9)]
  lines.push('  ' + header.join(' '))
  /** @param {string} label @param {string} kind @param {string} suffix @param {boolean} hostile */
  const row = (label, kind, suffix, hostile) => {
    const d = `http_req_duration${suffix}`
    return '  ' + [
      pad(label, 18), pad(kind, 9), lpad(String(value(data, d, 'count') === undefined ? '-' : value(data, d, 'count')), 9),
      lpad(ms(value(data, d, 'med')), 8), lpad(ms(value(data, d, 'p(95)')), 8), lpad(ms(value(data, d, 'p(99)')), 8), lpad(ms(value(data, d, 'max')), 9),
      lpad(hostile ? 'n/a' : pct(value(data, `http_req_failed${suffix}`, 'rate')), 8), lpad(pct(value(data, `checks${suffix}`, 'rate')), 9)
    ].join(' ')
  }
  lines.push(row('all', '', '', false))
  for (const op of OPERATIONS) lines.push(row(op.name, op.kind, `{op:${op.name}}`, op.kind === 'hostile'))
  lines.push('', `  targets: p95 < ${TARGETS.p95Ms} ms, p99 < ${TARGETS.p99Ms} ms, failed < ${TARGETS.failedRate * 100}%, ` +
    `checks > ${TARGETS.checksRate * 100}% (overall and per operation); p50 target 50 ms, for information`)
  for (const note of notes) lines.push(`  ${note}`)
  const results = thresholdResults(data)
  const crossed = results.filter((r) => !r[2])
  if (crossed.length > 0) {
    lines.push('', `  thresholds crossed (${crossed.length} of ${results.length}):`)
    for (const [name, expr] of crossed) lines.push(`    x ${name} ${expr}`)
  }
  lines.push('', crossed.length === 0 && results.length > 0
    ? `  RESULT: PASS (all ${results.length} thresholds held)`
    : `  RESULT: FAIL (${crossed.length} of ${results.length} thresholds crossed)`, '')
  return lines.join('\n')
}

/**
 * A handleSummary for one scenario: the text on stdout and the JSON under RESULTS_DIR.
 * @param {string} scenario
 * @param {(data: SummaryData) => string[]} [notes]
 */
export function summaryHandler (scenario, notes) {
  return function handleSummary (/** @type {SummaryData} */ data) {
    const file = `${config.resultsDir}/${scenario}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`
    const extra = notes ? notes(data) : []
    const passed = thresholdResults(data).every((r) => r[2])
    /** @type {Record<string, string>} */
    const out = { stdout: textSummary(scenario, data, extra.concat([`JSON summary: ${file}`])) }
    out[file] = JSON.stringify(Object.assign({ scenario, baseUrl: config.baseUrl, passed, notes: extra }, data), null, 2)
    return out
  }
}
