// Row 1 of the benchmark: a bare Fastify route returning the same bytes as the real server,
// the ceiling of the HTTP layer on this machine. Prints its port on stdout.
import Fastify from 'fastify'

const body = process.argv[2] ?? '{}'
const app = Fastify({ logger: false })
app.post('/graphql', (_request, reply) => { reply.header('content-type', 'application/json; charset=utf-8').send(body) })
await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`${(app.server.address() as { port: number }).port}\n`)
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
