// Load: the production-readiness profile. 2 min ramp to 100 VUs, 5 min at 100, 2 min to 200, 5 min at
// 200, 2 min down; the weighted mix, no think time (as the production-readiness example), and the
// production-readiness targets as thresholds. The run passes or fails on them.
import { seconds, stage } from './lib/config.js'
import { summaryHandler } from './lib/summary.js'
import { SUMMARY_TREND_STATS, thresholds } from './lib/thresholds.js'
import { mixed, prepare } from './lib/workload.js'

const stages = [stage(120, 100), stage(300, 100), stage(120, 200), stage(300, 200), stage(120, 0)]

export const options = {
  scenarios: {
    load: { executor: 'ramping-vus', startVUs: 0, stages, gracefulRampDown: '30s' }
  },
  thresholds: thresholds(),
  summaryTrendStats: SUMMARY_TREND_STATS
}

export function setup () { return prepare(stages.reduce((s, st) => s + seconds(st.duration), 0)) }
export default function (/** @type {import('./lib/workload.js').SetupData} */ data) { mixed(data) }
export const handleSummary = summaryHandler('load')
