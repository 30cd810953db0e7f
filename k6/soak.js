// Soak: 100 VUs for an hour (TIME_SCALE=4 makes it four), to surface what only time shows: memory
// growth, pool or connection leaks, cache churn, log volume. Watch the Grafana dashboard during it.
// Mint a token that outlives the run (`npm run token -- --sub 1 --roles admin --expires 86400`).
import { seconds, stage } from './lib/config.js'
import { summaryHandler } from './lib/summary.js'
import { SUMMARY_TREND_STATS, thresholds } from './lib/thresholds.js'
import { mixed, prepare } from './lib/workload.js'

const stages = [stage(300, 100), stage(3600, 100), stage(300, 0)]

export const options = {
  scenarios: {
    soak: { executor: 'ramping-vus', startVUs: 0, stages, gracefulRampDown: '30s' }
  },
  thresholds: thresholds(),
  summaryTrendStats: SUMMARY_TREND_STATS
}

export function setup () { return prepare(stages.reduce((s, st) => s + seconds(st.duration), 0)) }
export default function (/** @type {import('./lib/workload.js').SetupData} */ data) { mixed(data) }
export const handleSummary = summaryHandler('soak')
