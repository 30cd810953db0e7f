// Puts every GraphQL request in a routing session (src/db/routing.ts): its caller, and whether
// it runs a mutation (then every statement runs on the primary). Once a mutation's response is
// ready, its commit LSN is recorded for its caller before the response leaves, so the caller's
// next read, on any instance, sees it. Other routes (readiness, metrics) stay on the primary.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { DocumentNode } from 'graphql'
import type { Router, Session } from './routing.js'

const isMutation = (document: DocumentNode) =>
  document.definitions.some((d) => d.kind === 'OperationDefinition' && d.operation === 'mutation')

export function routeRequests (app: FastifyInstance, router: Router, graphqlPath: string) {
  const sessions = new WeakMap<FastifyRequest, Session>()
  // a callback hook: the handler, and everything it awaits, runs inside the session
  app.addHook('preHandler', function routeReadsOfRequest (request, _reply, done) {
    if (request.routeOptions.url !== graphqlPath) return done()
    const session: Session = { caller: request.caller?.sub ?? null, mutation: false, writes: 0 }
    sessions.set(request, session)
    router.run(session, done)
  })
  // the operation is known once parsed: a document holding a mutation runs on the primary throughout
  app.addHook('onReady', (done) => {
    app.graphql?.addHook('preExecution', function routeMutationsToPrimary (_schema, document, context) {
      const session = sessions.get(context.reply.request)
      if (session && isMutation(document)) session.mutation = true
    })
    done()
  })
  app.addHook('onSend', function recordWritePosition (request, _reply, payload, done) {
    const session = sessions.get(request)
    if (!session?.mutation) return done(null, payload)
    router.finish(session).then(() => done(null, payload), (err: Error) => {
      // the primary is gone (a failover): the caller's next reads may go to a replica that lacks the write
      request.log.warn({ err }, 'read-your-writes: the write position could not be recorded')
      done(null, payload)
    })
  })
}
