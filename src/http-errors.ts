// Errors outside GraphQL (404, 405, 408, 413, 415, 429, 431, 503, a bad JSON body, a malformed
// request): one JSON shape, the GraphQL one, so a client reads every error the same way:
// `{ errors: [{ message, extensions: { code, requestId } }] }`, with the project's own wording
// (never a library's) and a code from the table in src/error-codes.ts.
import { ERRORS, KNOWN_CODES, type ErrorCode } from './error-codes.js'

export interface HttpError { code: ErrorCode, message: string, limit?: string }

// by HTTP status; anything else in 4xx is BAD_USER_INPUT, in 5xx INTERNAL_SERVER_ERROR
const BY_STATUS: Record<number, HttpError> = {
  400: { code: 'BAD_USER_INPUT', message: 'Malformed request' },
  401: { code: 'UNAUTHENTICATED', message: ERRORS.UNAUTHENTICATED.message },
  404: { code: 'NOT_FOUND', message: 'No such route' },
  405: { code: 'BAD_USER_INPUT', message: 'Method not allowed' },
  408: { code: 'TIMEOUT', message: 'The request took too long to arrive' },
  413: { code: 'QUERY_TOO_LARGE', message: 'Request body too large', limit: 'body' },
  415: { code: 'BAD_USER_INPUT', message: 'Unsupported content type: send application/json' },
  429: { code: 'RATE_LIMITED', message: ERRORS.RATE_LIMITED.message },
  431: { code: 'QUERY_TOO_LARGE', message: 'Request headers too large', limit: 'headers' },
  503: { code: 'SERVICE_UNAVAILABLE', message: ERRORS.SERVICE_UNAVAILABLE.message }
}

// Fastify's body errors that are not about the status alone
const BY_FASTIFY_CODE: Record<string, HttpError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'BAD_USER_INPUT', message: 'The body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'BAD_USER_INPUT', message: 'The body is empty' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_USER_INPUT', message: 'Content-Length does not match the body' },
  FST_ERR_VALIDATION: { code: 'BAD_USER_INPUT', message: 'The request does not have the expected shape' }
}

/** The code and our own message for an HTTP status (and Fastify's error code, when there is one). */
export function httpError (status: number, fastifyCode?: string): HttpError {
  return (fastifyCode && BY_FASTIFY_CODE[fastifyCode]) || BY_STATUS[status] ||
    (status >= 500 ? { code: 'INTERNAL_SERVER_ERROR', message: ERRORS.INTERNAL_SERVER_ERROR.message } : BY_STATUS[400])
}

export interface ErrorBody { errors: [{ message: string, extensions: Record<string, unknown> & { code: string, requestId?: string } }] }

/** The body of every error outside GraphQL. */
export function errorBody (code: ErrorCode, requestId: string | undefined, message: string = ERRORS[code].message, extensions: Record<string, unknown> = {}): ErrorBody {
  return { errors: [{ message, extensions: { ...extensions, code, ...(requestId && { requestId }) } }] }
}

/** An error thrown with a known code (gqlError) keeps its code and extensions. */
export function knownCode (err: unknown): { code: ErrorCode, extensions: Record<string, unknown> } | null {
  const extensions = (err as { extensions?: Record<string, unknown> } | null)?.extensions
  const code = extensions?.code
  return typeof code === 'string' && KNOWN_CODES.has(code) ? { code: code as ErrorCode, extensions: extensions! } : null
}

// Strings a client wrote, echoed in messages (graphql's "Cannot query field \"...\"", names):
// long names are cut, and so is the whole message, so no error carries a client's megabyte back.
const ECHO_MAX = 100
const LONG_NAME = new RegExp(`[_A-Za-z][_0-9A-Za-z]{${ECHO_MAX},}`, 'g')
const MESSAGE_MAX = 1000

export function boundedMessage (message: string): string {
  if (message.length <= ECHO_MAX) return message
  const cut = message.replace(LONG_NAME, (name) => `${name.slice(0, ECHO_MAX)}...`)
  return cut.length > MESSAGE_MAX ? `${cut.slice(0, MESSAGE_MAX)}...` : cut
}

/** A client-supplied string for a log field or a label: at most `max` characters. */
export function bounded (value: string | undefined, max = ECHO_MAX): string | undefined {
  return value !== undefined && value.length > max ? `${value.slice(0, max)}...` : value
}
