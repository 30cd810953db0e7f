// A correctly signed token still has to name a user and carry sane times: a subject that is not a
// canonical user id, or an absurd exp/iat, is 401 UNAUTHENTICATED with an authentication_failed
// event naming the reason, never a 500 and never another user.
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { errorsOf, gql, JWT_SECRET } from '../helpers/app.js'
import { events, useLoggedApp } from './helpers.js'

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const now = () => Math.floor(Date.now() / 1000)
/** an HS256 token with exactly these claims, signed with the test secret */
function signed (payload: Record<string, unknown>): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`
  return `${input}.${createHmac('sha256', JWT_SECRET).update(input).digest('base64url')}`
}

const t = useLoggedApp()

const ME = '{ me { id } }'
const CREATE = 'mutation { createPost(input: { title: "t", body: "b" }) { id } }'

type Case = [name: string, claims: () => Record<string, unknown>, reason: string]
const CASES: Case[] = [
  ['sub abc', () => ({ sub: 'abc', exp: now() + 600 }), 'subject_not_a_user_id'],
  ['sub auth0|123 (an IdP subject)', () => ({ sub: 'auth0|123', exp: now() + 600 }), 'subject_not_a_user_id'],
  ['sub with a NUL', () => ({ sub: '1\u0000', exp: now() + 600 }), 'subject_not_a_user_id'],
  ['sub +5', () => ({ sub: '+5', exp: now() + 600 }), 'subject_not_a_user_id'],
  ['sub 05', () => ({ sub: '05', exp: now() + 600 }), 'subject_not_a_user_id'],
  ['sub " 5 "', () => ({ sub: ' 5 ', exp: now() + 600 }), 'subject_not_a_user_id'],
  ['sub 0', () => ({ sub: '0', exp: now() + 600 }), 'subject_not_a_user_id'],
  ['sub beyond a bigint', () => ({ sub: '9'.repeat(19), exp: now() + 600 }), 'subject_not_a_user_id'],
  ['sub an object', () => ({ sub: { id: 5 }, exp: now() + 600 }), 'subject_not_a_user_id'],
  ['no sub', () => ({ exp: now() + 600 }), 'missing_subject'],
  ['exp 1e308', () => ({ sub: '5', exp: 1e308 }), 'exp_out_of_range'],
  ['iat an hour in the future', () => ({ sub: '5', iat: now() + 3600, exp: now() + 7200 }), 'iat_in_future'],
  ['iat 1e308', () => ({ sub: '5', iat: 1e308, exp: now() + 600 }), 'iat_out_of_range'],
  ['nbf 1e308', () => ({ sub: '5', nbf: 1e308, exp: now() + 600 }), 'nbf_out_of_range']
]

describe.each([['me', ME], ['createPost', CREATE]])('%s', (_, query) => {
  it.each(CASES)('refuses %s with 401 and the reason', async (_name, claims, reason) => {
    const before = t.logs.length
    const res = await gql(t.app, query, { token: signed(claims()) })
    expect(res.statusCode).toBe(401)
    expect(errorsOf(res.body)).toEqual([{ code: 'UNAUTHENTICATED', path: undefined }])
    expect(events(t.logs.slice(before)).map((l) => ({ event: l.event, reason: l.reason }))).toEqual([{ event: 'authentication_failed', reason }])
  })
})

describe('tokens that name a user', () => {
  it('accepts a canonical subject, an iat within the clock tolerance and a far but real exp', async () => {
    const token = signed({ sub: '5', iat: now() + 2, exp: 253_402_300_799 })
    expect((await gql(t.app, ME, { token })).body).toEqual({ data: { me: { id: '5' } } })
  })

  it('creates the post as the canonical subject', async () => {
    const res = await gql(t.app, 'mutation { createPost(input: { title: "t", body: "b" }) { author { id } } }', { token: signed({ sub: '5', exp: now() + 600 }) })
    expect(res.body).toEqual({ data: { createPost: { author: { id: '5' } } } })
  })
})
