// The figures bench/run.ts reads from a load generator's result (bench/drive.ts, bench/mix.ts).
import type autocannon from 'autocannon'

export function summary (result: autocannon.Result) {
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p975: result.latency.p97_5,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total
  }
}
