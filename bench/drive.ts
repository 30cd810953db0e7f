// The load generator, run as its own process so it does not share an event loop with the
// orchestrator: autocannon against one URL, printing its result as one JSON line.
import autocannon from 'autocannon'
import { summary } from './summary.js'

const { url, token, seconds, amount, connections, requests } = JSON.parse(process.argv[2]) as {
  url: string, token: string, seconds: number, amount?: number, connections: number, requests: Array<{ body: string }>
}
const result = await autocannon({
  url: `${url}/graphql`,
  method: 'POST',
  connections,
  // a number of requests (`npm run bench -- --instructions`), else a duration
  ...(amount ? { amount } : { duration: seconds }),
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  requests: requests.map((r) => ({ method: 'POST', body: r.body }))
})
process.stdout.write(JSON.stringify(summary(result)) + '\n')
