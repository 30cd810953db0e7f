// Sends an unexpected (masked) error to Sentry with the request id, the operation and the caller's
// subject as tags. Sentry is initialised by src/instrument.ts (node --import) when SENTRY_DSN is
// set; otherwise this does nothing. Known codes never get here: the error formatter only calls it
// for errors it masks as INTERNAL_SERVER_ERROR.
import * as Sentry from '@sentry/node'
import type { FastifyRequest } from 'fastify'
import type { OperationInfo } from './operations.js'

export interface ReportContext {
  reply?: { request: { id: string } }
  /** the operation of this context (one per operation in a batch) */
  operation?: OperationInfo
}

export function reportUnexpected (err: unknown, ctx: ReportContext): void {
  if (!Sentry.isInitialized()) return
  const request = ctx.reply?.request as FastifyRequest | undefined
  const op = ctx.operation ?? request?.graphqlOperation ?? undefined
  const sub = request?.caller?.sub
  const tags: Record<string, string> = {}
  if (request) tags.request_id = request.id
  if (op) {
    tags.operation_type = op.type
    // Sentry keeps tag values up to 200 characters
    tags.operation_name = (op.name ?? 'anonymous').slice(0, 200)
  }
  if (sub) tags.subject = sub.slice(0, 200)
  Sentry.captureException(err, { tags, user: sub ? { id: sub } : undefined })
}

/** Send what is queued before the process exits (bounded, so shutdown never hangs on Sentry). */
export async function flushErrors (timeoutMs = 2000): Promise<void> {
  if (Sentry.isInitialized()) await Sentry.flush(timeoutMs)
}
