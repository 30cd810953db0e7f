// Spike: a steady 20 VUs, then 400 within 10 s for a minute, then back to 20 for two minutes.
// Shows whether the server absorbs the burst (or sheds it with quick 503s rather than timeouts)
// and recovers; the thresholds still apply, so a spike that breaks the targets fails the run.
import { seconds, stage } from './lib/config.js'
import { summaryHandler } from './lib/summary.js'
import { SUMMARY_TREND_STATS, thresholds } from './lib/thresholds.js'
import { mixed, prepare } from './lib/workload.js'

const stages = [
  stage(30, 20), stage(60, 20), // warm, steady
  stage(10, 400), stage(60, 400), // the spike
  stage(10, 20), stage(120, 20), // recovery
  stage(30, 0)
]

export const options = {
  scenarios: {
    spike: { executor: 'ramping-vus', startVUs: 0, stages, gracefulRampDown: '30s' }
  },
  thresholds: thresholds(),
  summaryTrendStats: SUMMARY_TREND_STATS
}

export function setup () { return prepare(stages.reduce((s, st) => s + seconds(st.duration), 0)) }
export default function (/** @type {import('./lib/workload.js').SetupData} */ data) { mixed(data) }
export const handleSummary = summaryHandler('spike')
