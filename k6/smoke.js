// Smoke: 1 VU for 30 s sending every operation once per iteration. Run it first, and after each
// deploy: it says whether every operation works at all before the heavier scenarios load it.
import { duration } from './lib/config.js'
import { summaryHandler } from './lib/summary.js'
import { SUMMARY_TREND_STATS, thresholds } from './lib/thresholds.js'
import { everyOperation, prepare } from './lib/workload.js'

export const options = {
  scenarios: {
    smoke: { executor: 'constant-vus', vus: 1, duration: duration(30) }
  },
  thresholds: thresholds(),
  summaryTrendStats: SUMMARY_TREND_STATS
}

export function setup () { return prepare(30) }
export default function (/** @type {import('./lib/workload.js').SetupData} */ data) { everyOperation(data) }
export const handleSummary = summaryHandler('smoke')
