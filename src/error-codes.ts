// The error code table. Clients and tests rely on codes, never on wording.
import mercurius from 'mercurius'

export const ERRORS = {
  BAD_USER_INPUT: { status: 200, message: 'Invalid input' },
  UNAUTHENTICATED: { status: 401, message: 'Authentication required' },
  FORBIDDEN: { status: 200, message: 'Not allowed' },
  NOT_FOUND: { status: 200, message: 'Not found' },
  GRAPHQL_PARSE_FAILED: { status: 400, message: 'Syntax error' },
  GRAPHQL_VALIDATION_FAILED: { status: 400, message: 'Invalid query' },
  QUERY_TOO_DEEP: { status: 400, message: 'Query is too deep' },
  QUERY_TOO_COMPLEX: { status: 400, message: 'Query is too complex' },
  QUERY_TOO_LARGE: { status: 400, message: 'Query is too large' },
  PERSISTED_QUERY_NOT_FOUND: { status: 200, message: 'PersistedQueryNotFound' },
  PERSISTED_QUERY_NOT_ALLOWED: { status: 400, message: 'Only registered operations are allowed' },
  IDEMPOTENCY_KEY_CONFLICT: { status: 200, message: 'Idempotency-Key was used with a different request' },
  RATE_LIMITED: { status: 429, message: 'Too many requests' },
  TIMEOUT: { status: 200, message: 'The operation timed out' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'Service unavailable' },
  SERVICE_READ_ONLY: { status: 200, message: 'The service is read-only for maintenance' },
  FEATURE_DISABLED: { status: 200, message: 'This feature is switched off' },
  INTERNAL_SERVER_ERROR: { status: 500, message: 'Internal server error' }
} as const

export type ErrorCode = keyof typeof ERRORS

/** Codes that describe the client's request, not a defect: passed through unmasked, never reported to Sentry. */
export const KNOWN_CODES = new Set<string>(Object.keys(ERRORS).filter((c) => c !== 'INTERNAL_SERVER_ERROR'))

/**
 * A GraphQL error with a code. `status` is the HTTP status for errors raised before execution
 * (the whole request fails); errors during execution keep HTTP 200 and partial data.
 */
export function gqlError (code: ErrorCode, message: string = ERRORS[code].message, extensions: Record<string, unknown> = {}) {
  return new mercurius.ErrorWithProps(message, { code, ...extensions }, ERRORS[code].status)
}
