// Settings from the environment (`k6 run -e NAME=value`, or the process environment, which k6
// reads too). No secret lives in a script: the token comes from TOKEN (`npm run token` prints a
// development one; staging and production tokens come from the identity provider).

/**
 * @typedef {object} SuiteConfig
 * @property {string} baseUrl      server root, no trailing slash
 * @property {string} graphqlUrl   baseUrl + /graphql
 * @property {string} token        a JWT with role admin (the main query reads e-mails; createUser needs it)
 * @property {number} scale        multiplies VUs and arrival rates
 * @property {number} timeScale    multiplies stage durations
 * @property {number} thinkTime    mean pause in seconds between a VU's iterations (0 = none, as the production-readiness example)
 * @property {number} userIdMax    read queries pick user ids 1..userIdMax (the seed has 300)
 * @property {string} resultsDir   where handleSummary writes its JSON (must exist)
 */

/**
 * @param {Record<string, string | undefined>} env
 * @returns {SuiteConfig}
 */
export function loadConfig (env) {
  /** @type {string[]} */
  const problems = []
  /**
   * @param {string} name
   * @param {number} fallback
   * @param {(n: number) => boolean} valid
   */
  const number = (name, fallback, valid) => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    const n = Number(raw)
    if (!Number.isFinite(n) || !valid(n)) problems.push(`${name}=${raw} is not valid`)
    return n
  }
  const baseUrl = (env.BASE_URL || 'http://127.0.0.1:8000').replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]+/.test(baseUrl)) problems.push(`BASE_URL=${baseUrl} is not an http(s) URL`)
  const config = {
    baseUrl,
    graphqlUrl: `${baseUrl}/graphql`,
    token: env.TOKEN || '',
    scale: number('SCALE', 1, (n) => n > 0),
    timeScale: number('TIME_SCALE', 1, (n) => n > 0),
    thinkTime: number('THINK_TIME', 0, (n) => n >= 0),
    userIdMax: number('USER_ID_MAX', 300, (n) => Number.isInteger(n) && n >= 1),
    resultsDir: (env.RESULTS_DIR || 'k6/results').replace(/\/+$/, '')
  }
  if (problems.length > 0) throw new Error(`invalid k6 settings: ${problems.join('; ')}`)
  return config
}

export const config = loadConfig(__ENV)

/** VUs or iterations per second, scaled; a non-zero target never rounds down to 0. */
export function scaled (/** @type {number} */ n) {
  return n === 0 ? 0 : Math.max(1, Math.round(n * config.scale))
}

/** A duration in seconds, scaled, as k6 writes it: whole minutes as `2m`, else seconds. */
export function duration (/** @type {number} */ seconds) {
  const s = Math.max(1, Math.round(seconds * config.timeScale))
  return s % 60 === 0 ? `${s / 60}m` : `${s}s`
}

/** A ramping stage: reach `target` (VUs or iterations per time unit, scaled) over `seconds` (scaled). */
export function stage (/** @type {number} */ seconds, /** @type {number} */ target) {
  return { duration: duration(seconds), target: scaled(target) }
}

/** Seconds as k6 writes them in options, back to a number (for planning and tests). */
export function seconds (/** @type {string} */ d) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d)
  if (!m) throw new Error(`unsupported duration ${d}`)
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[/** @type {'ms'|'s'|'m'|'h'} */ (m[2])]
}
