// One formatter for every error a client sees: GraphQL results and Fastify errors alike.
// Known codes pass through; anything else is an unexpected error: logged in full with the request
// id, reported (Sentry), and in production masked as "Internal server error".
import { GraphQLError } from 'graphql'
import type { ExecutionResult, GraphQLFormattedError } from 'graphql'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { databaseFailure } from '../db/classify-errors.js'
import { ERRORS, KNOWN_CODES, type ErrorCode } from '../error-codes.js'
import { boundedMessage, httpError } from '../http-errors.js'
import { responseStatus } from './http-media.js'
import { securityEvent } from '../security/events.js'

export interface FormatterOptions {
  /** hide unexpected errors' messages (production) */
  mask: boolean
  /** remove graphql's "Did you mean ...?" hints, which leak the schema (production) */
  hideSuggestions: boolean
  /** called once per unexpected error (error tracking) */
  report?: (err: unknown, ctx: FormatContext) => void
  /** called once per error sent, with its code (graphql_errors_total) */
  count?: (code: ErrorCode) => void
  /** called once per response with its errors (tracing records them on the operation span) */
  record?: (ctx: unknown, errors: Array<{ err: unknown, code: string, known: boolean }>, executed: boolean) => void
}

export interface FormatContext {
  reply?: { request: { id: string, log: FastifyBaseLogger, raw?: { readableAborted?: boolean } } }
  app: { log: FastifyBaseLogger }
}

interface ClientError { message: string, locations?: GraphQLFormattedError['locations'], path?: GraphQLFormattedError['path'], extensions: Record<string, unknown> }

// Fastify and Mercurius errors raised before execution, by HTTP status.
const BY_STATUS: Record<number, ErrorCode> = {
  401: 'UNAUTHENTICATED',
  413: 'QUERY_TOO_LARGE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE'
}

// Mercurius wraps parse and validation errors in one error whose `errors` holds the real ones.
function flatten (errors: readonly GraphQLError[]): GraphQLError[] {
  return errors.flatMap((e) => {
    const inner = (e.originalError as { errors?: unknown[] } | undefined)?.errors
    if (!Array.isArray(inner)) return [e]
    // A plain inner error (GET mutation) keeps the wrapper's status and code.
    return inner.map((i) => i instanceof GraphQLError ? i : new GraphQLError((i as Error).message, { originalError: e.originalError }))
  })
}

// graphql's parser, stopped by MAX_TOKENS (its wording has 'more that' in graphql 16)
const TOO_MANY_TOKENS = /^Syntax Error: Document contains more tha[nt] \d+ tokens/

// rejections before execution that are security events (src/security/events.ts)
const REJECTIONS = new Set<string>(['QUERY_TOO_DEEP', 'QUERY_TOO_COMPLEX', 'QUERY_TOO_LARGE'])

const PERSISTED: Record<string, ErrorCode> = {
  MER_ERR_GQL_PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  // an unknown protocol version, or (PERSISTED_QUERIES=only) a document that is not a trusted one
  MER_ERR_GQL_PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_ALLOWED',
  MER_ERR_GQL_PERSISTED_QUERY_MISMATCH: 'BAD_USER_INPUT'
}

// A client that hung up mid-body: Fastify hands the socket's ECONNRESET to the error handler
function clientAborted (orig: Error | undefined, ctx: FormatContext): boolean {
  return (orig as { code?: string } | undefined)?.code === 'ECONNRESET' && ctx.reply?.request.raw?.readableAborted === true
}

interface Classified { code: ErrorCode, status: number, known: boolean, database?: true, limit?: string, message?: string }

function classify (e: GraphQLError): Classified {
  const orig = e.originalError as (Error & { statusCode?: number, code?: string, extensions?: { code?: string } }) | undefined
  const code = (e.extensions?.code ?? orig?.extensions?.code) as string | undefined
  if (code && KNOWN_CODES.has(code)) {
    return { code: code as ErrorCode, status: orig?.statusCode ?? ERRORS[code as ErrorCode].status, known: true }
  }
  // PostgreSQL unreachable or too slow (src/db/classify-errors.ts): an outage or a deadline, not a defect
  const failure = databaseFailure(orig)
  if (failure) return { code: failure, status: ERRORS[failure].status, known: true, database: true }
  // graphql's own syntax and validation errors carry no original error; a variable value of the
  // wrong type carries the scalar's coercion error (and no path: nothing ran)
  if (!orig || (e.path === undefined && (orig as unknown) instanceof GraphQLError)) {
    if (TOO_MANY_TOKENS.test(e.message)) return { code: 'QUERY_TOO_LARGE', status: 400, known: true, limit: 'tokens', message: 'Query is too large: too many tokens' }
    if (e.message.startsWith('Syntax Error')) return { code: 'GRAPHQL_PARSE_FAILED', status: 400, known: true }
    // variable values of the wrong type
    if (e.message.startsWith('Variable "')) return { code: 'BAD_USER_INPUT', status: 400, known: true }
    return { code: 'GRAPHQL_VALIDATION_FAILED', status: 400, known: true }
  }
  // Mercurius's persisted-query errors (src/graphql/persisted-queries.ts), as Apollo clients expect them
  // (Mercurius raises NOT_FOUND with "Unknown query" for a body without a query: a bad request)
  const persisted = orig.code && orig.message !== 'Unknown query' ? PERSISTED[orig.code] : undefined
  // (a hash that is not the query's SHA-256 is a bad request: 400, as Mercurius says)
  if (persisted) return { code: persisted, status: persisted === 'BAD_USER_INPUT' ? 400 : ERRORS[persisted].status, known: true }
  const status = orig.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's and Mercurius's wording names the library ("body/operationName must be ..."): ours instead
    // (Mercurius wraps Fastify's schema validation errors in MER_ERR_GQL_VALIDATION)
    const own = httpError(status, orig.code === 'MER_ERR_GQL_VALIDATION' && status === 400 ? 'FST_ERR_VALIDATION' : orig.code).message
    if (orig.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || orig instanceof SyntaxError) return { code: 'GRAPHQL_PARSE_FAILED', status: 400, known: true, message: 'Invalid JSON' }
    if (status === 413) return { code: 'QUERY_TOO_LARGE', status, known: true, limit: 'body', message: own }
    const library = orig.code?.startsWith('FST_') || orig.code?.startsWith('MER_')
    return { code: BY_STATUS[status] ?? 'BAD_USER_INPUT', status, known: true, message: library ? own : undefined }
  }
  if (status === 503) return { code: 'SERVICE_UNAVAILABLE', status, known: true }
  return { code: 'INTERNAL_SERVER_ERROR', status: 500, known: false }
}

export function createErrorFormatter (opts: FormatterOptions) {
  return function errorFormatter (execution: ExecutionResult & { statusCode?: number }, ctx: FormatContext) {
    const log = ctx.reply?.request.log ?? ctx.app.log
    const requestId = ctx.reply?.request.id
    let status = 200
    let first: ErrorCode | undefined
    const executed = execution.data !== undefined
    const recorded: Array<{ err: unknown, code: string, known: boolean }> | undefined = opts.record && []
    const errors: ClientError[] = flatten(execution.errors ?? []).map((e, i) => {
      // counted and logged as a client abort (src/plugins/errors.ts), never as a server failure
      if (clientAborted(e.originalError ?? undefined, ctx)) {
        if (i === 0) status = 400
        return { message: 'The client closed the connection', extensions: { code: 'BAD_USER_INPUT' } }
      }
      const c = classify(e)
      opts.count?.(c.code)
      recorded?.push({ err: e.originalError ?? e, code: c.code, known: c.known })
      if (i === 0 && !executed) [status, first] = [c.status, c.code]
      const json = e.toJSON() as ClientError
      // graphql-jit reports list indices as strings; the spec wants integers (field names never are).
      if (Array.isArray(json.path)) json.path = json.path.map((p: string | number) => typeof p === 'string' && /^\d+$/.test(p) ? Number(p) : p)
      const extensions: Record<string, unknown> = { ...json.extensions, code: c.code, ...(c.limit && { limit: c.limit }) }
      if (i === 0 && !executed && ctx.reply && REJECTIONS.has(c.code)) {
        securityEvent(ctx.reply.request as FastifyRequest, 'query_rejected', { code: c.code, limit: extensions.limit, cost: extensions.cost })
      }
      if (c.database) {
        // pg's wording can hold an address or SQL: log it, send only the table's message
        log.warn({ err: e.originalError, path: e.path }, 'database failure')
        return { message: ERRORS[c.code].message, locations: json.locations, path: json.path, extensions: { code: c.code } }
      }
      if (!c.known) {
        log.error({ err: e.originalError ?? e, path: e.path }, 'unexpected error')
        opts.report?.(e.originalError ?? e, ctx)
        if (opts.mask) return { message: ERRORS.INTERNAL_SERVER_ERROR.message, path: json.path, extensions: { code: c.code, requestId } }
        return { ...json, extensions: { ...extensions, requestId } }
      }
      // names a client wrote are echoed in graphql's messages: bounded, never a megabyte back
      const message = boundedMessage(c.message ?? (opts.hideSuggestions ? json.message.replace(/ ?Did you mean .*\?$/, '') : json.message))
      return { ...json, message, extensions }
    })
    if (recorded && recorded.length > 0) opts.record!(ctx, recorded, executed)
    // by the media type the client accepts (src/graphql/http-media.ts)
    if (ctx.reply) status = responseStatus(ctx.reply.request as FastifyRequest, status, executed, first)
    return { statusCode: status, response: executed ? { data: execution.data ?? null, errors } : { errors } }
  }
}
