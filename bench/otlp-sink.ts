// A local OTLP/HTTP receiver for the tracing row of `npm run bench`: accepts every export and
// discards it, in a process of its own (the bench process blocks while autocannon runs).
import { createServer } from 'node:http'

let spans = 0
const server = createServer((req, res) => {
  req.on('data', () => {})
  req.on('end', () => { spans++; res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end() })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as { port: number }).port}\n`))
process.on('SIGTERM', () => { process.stderr.write(`otlp sink: ${spans} exports received\n`); process.exit(0) })
