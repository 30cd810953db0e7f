// Stress: an open model (ramping arrival rate) that raises the request rate step by step until
// the production-readiness targets break, to find the knee: the highest rate the server sustains within
// them. The overall thresholds abort the run once crossed (after 30 s of grace), so a stress run
// is expected to end FAILED; the summary reports the rate it had reached, an upper bound of the
// knee (thresholds are cumulative, so they cross a little after latency starts to climb).
import exec from 'k6/execution'
import { Gauge } from 'k6/metrics'
import { scaled, seconds, stage } from './lib/config.js'
import { summaryHandler } from './lib/summary.js'
import { SUMMARY_TREND_STATS, thresholds } from './lib/thresholds.js'
import { mixed, prepare } from './lib/workload.js'

const START_RATE = scaled(10)
const stages = [stage(60, 50), stage(120, 200), stage(120, 500), stage(120, 1000), stage(120, 2000), stage(120, 3000)]

export const options = {
  scenarios: {
    stress: {
      executor: 'ramping-arrival-rate',
      startRate: START_RATE,
      timeUnit: '1s',
      stages,
      // enough VUs that the client is not the bottleneck; dropped_iterations in the summary says when it was
      preAllocatedVUs: scaled(100),
      maxVUs: scaled(1500)
    }
  },
  thresholds: thresholds({ abortOnFail: true, delayAbortEval: '30s' }),
  summaryTrendStats: SUMMARY_TREND_STATS
}

/** the arrival rate (iterations/s) the stages schedule `elapsed` seconds into the scenario */
export function scheduledRate (/** @type {number} */ elapsed) {
  let from = START_RATE
  let t = 0
  for (const st of stages) {
    const d = seconds(st.duration)
    if (elapsed <= t + d) return from + (st.target - from) * ((elapsed - t) / d)
    from = st.target
    t += d
  }
  return from
}

const targetRate = new Gauge('stress_target_rate')

export function setup () { return prepare(stages.reduce((s, st) => s + seconds(st.duration), 0)) }
export default function (/** @type {import('./lib/workload.js').SetupData} */ data) {
  targetRate.add(scheduledRate((Date.now() - exec.scenario.startTime) / 1000))
  mixed(data)
}
export const handleSummary = summaryHandler('stress', (data) => {
  const m = data.metrics.stress_target_rate
  return m ? [`arrival rate reached: ${Math.round(m.values.max)} iterations/s (the knee is at or below it; compare p95 over time in Grafana)`] : []
})
