// What a verified token may say about its caller. The signature and iss/aud are the verifier's
// job; here: the subject must be a canonical account id (an integer in this template, and
// an IdP's opaque subject such as `auth0|123` is not one: point JWT_SUBJECT_CLAIM at a claim the
// provider fills with that id, see docs/identity.md), and the times must be sane numbers.
import type { Caller } from '../graphql/context.js'

/** A refusal with a short, fixed reason: it goes to the security event and the error extensions. */
export class InvalidTokenError extends Error {
  constructor (readonly reason: string) { super(reason) }
}

/** The same rule as a GraphQL `id` argument: no sign, no leading zero, no spaces, fits a bigint. */
const USER_ID = /^[1-9][0-9]{0,17}$/
/** RFC 7519 NumericDate, bounded to the year 9999: `exp: 1e308` is not a time. */
const MAX_NUMERIC_DATE = 253_402_300_799
const MAX_ROLES = 100
const MAX_ROLE_LENGTH = 100

/**
 * A claim by name or dotted path. The whole name is tried first, so namespaced claims that
 * contain dots (`https://example.com/roles`) work as well as nested ones (`realm_access.roles`).
 */
function claimAt (payload: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path]
  let value: unknown = payload
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value
}

/** The caller's user id: a canonical id string, or a positive safe integer (some IdPs' custom claims). */
function subjectOf (value: unknown): string {
  if (value === undefined) throw new InvalidTokenError('missing_subject')
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value)
  if (typeof value === 'string' && USER_ID.test(value)) return value
  throw new InvalidTokenError('subject_not_a_user_id')
}

function isTime (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_NUMERIC_DATE
}

/** exp is required; exp, nbf and iat must be NumericDates, and iat not in the future (beyond the tolerance). */
export function checkTimes (payload: Record<string, unknown>, nowMs: number, toleranceMs: number): void {
  if (!isTime(payload.exp)) throw new InvalidTokenError('exp_out_of_range')
  if (payload.nbf !== undefined && !isTime(payload.nbf)) throw new InvalidTokenError('nbf_out_of_range')
  if (payload.iat !== undefined) {
    if (!isTime(payload.iat)) throw new InvalidTokenError('iat_out_of_range')
    if (payload.iat * 1000 > nowMs + toleranceMs) throw new InvalidTokenError('iat_in_future')
  }
}

/** Roles: an array of strings (or one string); anything else is no roles. Bounded in count and length. */
function rolesOf (value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : []
  return list.filter((r): r is string => typeof r === 'string' && r.length > 0 && r.length <= MAX_ROLE_LENGTH).slice(0, MAX_ROLES)
}

export interface ClaimOptions { subjectClaim: string, rolesClaim: string, toleranceMs: number }

/** The caller a verified payload names; throws InvalidTokenError. */
export function callerOf (payload: Record<string, unknown>, opts: ClaimOptions, nowMs = Date.now()): Caller {
  checkTimes(payload, nowMs, opts.toleranceMs)
  return { sub: subjectOf(claimAt(payload, opts.subjectClaim)), roles: rolesOf(claimAt(payload, opts.rolesClaim)) }
}
