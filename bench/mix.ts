// The k6 mix under autocannon: the operations and weights of k6/lib/operations.js (hostile ones
// included), built and checked by the k6 suite's own functions, over the bench's connections.
// Prints one JSON line: totals, and per operation the count, p95 and checks that failed.
// Run as its own process, as bench/drive.ts is.
import autocannon from 'autocannon'
import { summary } from './summary.js'
import { checksFor } from '../k6/lib/checks.js'
import { buildRequest, operation, pick, type Ctx, type Operation } from '../k6/lib/operations.js'

const { url, token, seconds, connections } = JSON.parse(process.argv[2]) as { url: string, token: string, seconds: number, connections: number }
const target = { graphqlUrl: `${url}/graphql`, token }
const run = `bench${Date.now().toString(36)}`

// what k6's setup() does: the users updateUser renames (never seeded ones)
const userIds: string[] = []
for (let i = 0; i < 5; i++) {
  const req = buildRequest(operation('createUser'), { run, vu: 0, iter: i, userIds, userIdMax: 300 }, target)
  const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body })
  const body = await res.json() as { data?: { createUser?: { id: string } } }
  if (!body.data?.createUser) throw new Error(`setup: createUser answered ${res.status} ${JSON.stringify(body)}`)
  userIds.push(body.data.createUser.id)
}

interface Sent { op: Operation, variables: Record<string, unknown> }
interface PerOperation { count: number, failed: number, latencies: number[] }
const stats = new Map<string, PerOperation>()
let iteration = 0

// One request template whose setupRequest picks the next operation of the deck: the whole run walks
// the deck as one k6 VU does, so the mix has the suite's weights whatever the connection count.
let finished!: (result: autocannon.Result) => void
let failed!: (err: unknown) => void
const done = new Promise<autocannon.Result>((resolve, reject) => { finished = resolve; failed = reject })
const instance = autocannon({
  url: target.graphqlUrl,
  connections,
  duration: seconds,
  requests: [{
    method: 'POST',
    setupRequest: (request, context) => {
      const iter = iteration++
      // vu 1..50 and a fresh iteration number: unique idempotency keys and e-mails, varied ids
      const ctx: Ctx = { run, vu: 1 + (iter % connections), iter, userIds, userIdMax: 300 }
      const op = pick(1, iter)
      const built = buildRequest(op, ctx, target)
      // one request in flight per connection (no pipelining): the one this answer belongs to
      ;(context as { sent?: Sent }).sent = { op, variables: built.variables }
      return { ...request, method: 'POST', path: '/graphql', headers: built.headers, body: built.body }
    },
    onResponse: (status, body, context) => {
      const sent = (context as { sent?: Sent }).sent!
      const failed = Object.values(checksFor(sent.op, sent.variables)).some((check) => !check({ status, body }))
      ;(context as { last?: Sent & { failed: boolean } }).last = { ...sent, failed }
    }
  }]
}, (err, result) => { if (err) failed(err); else finished(result) })

// autocannon's types omit the (documented) 'response' event's client argument
;(instance as unknown as NodeJS.EventEmitter).on('response', (client: { requestIterator: { context: { last?: Sent & { failed: boolean } } } }, _status: number, _bytes: number, ms: number) => {
  const last = client.requestIterator.context.last
  if (!last) return
  let s = stats.get(last.op.name)
  if (!s) stats.set(last.op.name, s = { count: 0, failed: 0, latencies: [] })
  s.count++
  if (last.failed) s.failed++
  s.latencies.push(ms)
})

const result = await done
const p95 = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]
}
process.stdout.write(JSON.stringify({
  ...summary(result),
  operations: [...stats].map(([name, s]) => ({ name, count: s.count, failed: s.failed, p95: Number(p95(s.latencies).toFixed(1)) }))
}) + '\n')
