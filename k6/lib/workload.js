// What a VU does: setup() prepares the run (checks the token, creates the users that updateUser
// renames), then each iteration sends one operation of the weighted mix, or (smoke) all of them.
import { sleep } from 'k6'
import encoding from 'k6/encoding'
import exec from 'k6/execution'
import { config } from './config.js'
import { OPERATIONS, operation, pick } from './operations.js'
import { send } from './graphql.js'

/** @typedef {{ run: string, userIds: string[] }} SetupData */

// users created per run for updateUser; VUs share them (row locks stay short)
const UPDATE_TARGETS = 5

/** Fails fast on a missing or unusable token, rather than with thousands of failed checks. */
function checkToken (/** @type {number} */ plannedSeconds) {
  if (!config.token) {
    throw new Error('TOKEN is not set: pass -e TOKEN=$(npm run -s token -- --sub 1 --roles admin --expires 86400)')
  }
  /** @type {{ roles?: unknown, exp?: unknown }} */
  let claims
  try {
    claims = JSON.parse(String(encoding.b64decode(config.token.split('.')[1], 'rawurl', 's')))
  } catch (e) {
    console.warn('TOKEN is not a JWT the suite can read; trusting it as it is')
    return
  }
  if (!Array.isArray(claims.roles) || claims.roles.indexOf('admin') < 0) {
    throw new Error('TOKEN needs role admin (the main query reads e-mails, createUser is admin-only)')
  }
  if (typeof claims.exp === 'number') {
    const left = claims.exp - Date.now() / 1000
    if (left <= 0) throw new Error('TOKEN has expired')
    if (left < plannedSeconds) console.warn(`TOKEN expires in ${Math.round(left)} s, before this run ends (~${Math.round(plannedSeconds)} s): mint one with a longer --expires`)
  }
}

/** @param {number} plannedSeconds  how long the run is planned to last (token lifetime check) */
export function prepare (plannedSeconds) {
  checkToken(plannedSeconds)
  const run = Date.now().toString(36) + Math.floor(Math.random() * 1e8).toString(36)
  /** @type {string[]} */
  const userIds = []
  for (let i = 0; i < UPDATE_TARGETS; i++) {
    const { res, ok } = send(operation('createUser'), { run, vu: 0, iter: i, userIds, userIdMax: config.userIdMax })
    if (!ok) throw new Error(`setup could not create a user at ${config.graphqlUrl}: HTTP ${res.status} ${String(res.body).slice(0, 300)}`)
    userIds.push(String(res.json('data.createUser.id')))
  }
  return { run, userIds }
}

/** @param {SetupData} data @returns {import('./operations.js').Ctx} */
function context (data) {
  return { run: data.run, vu: exec.vu.idInTest, iter: exec.vu.iterationInScenario, userIds: data.userIds, userIdMax: config.userIdMax }
}

/** one operation of the weighted mix, then the think time (if any) */
export function mixed (/** @type {SetupData} */ data) {
  const ctx = context(data)
  send(pick(ctx.vu, ctx.iter), ctx)
  if (config.thinkTime > 0) sleep(config.thinkTime * (0.5 + Math.random()))
}

/** every operation once, in catalogue order (smoke: does each one work at all?) */
export function everyOperation (/** @type {SetupData} */ data) {
  const ctx = context(data)
  for (const op of OPERATIONS) send(op, ctx)
  sleep(1)
}
