// The only module that reads the environment. Every variable is one zod entry whose
// .describe() is its documentation; `.env.example` is checked against this schema by a test.
import { existsSync, readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import { z } from 'zod'

const bool = z.enum(['true', 'false', '1', '0', 'on', 'off', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'on' || v === 'yes')
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max)
const list = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
const url = (protocols: string[]) => z.string().refine((v) => {
  try { return protocols.includes(new URL(v).protocol) } catch { return false }
}, { message: `must be a URL starting with ${protocols.join(' or ')}//` })

/** The algorithms JWT_ALGORITHMS may list: `none` is not one of them. */
export const JWT_ALGORITHM_NAMES = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const

export const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development')
    .describe('development, test or production; production refuses unsafe settings'),
  HOST: z.string().min(1).default('127.0.0.1').describe('listen address (the container sets 0.0.0.0)'),
  PORT: int(0, 65535).default(8000).describe('listen port'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .describe('pino log level'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional()
    .describe('PostgreSQL connection string; unset = an embedded PostgreSQL under .data/ (refused in production)'),
  DATABASE_POOL_MIN: int(0, 1000).default(2).describe('connections the pool keeps open'),
  DATABASE_POOL_MAX: int(1, 1000).default(20).describe('most connections the pool opens'),
  DATABASE_CONNECT_TIMEOUT_MS: int(1).default(5000)
    .describe('how long a request waits for a pool connection before failing'),
  DATABASE_IDLE_TIMEOUT_MS: int(0).default(10000).describe('idle pool connections above the minimum close after this'),
  DATABASE_PREPARED_STATEMENTS: bool.default(true)
    .describe('named prepared statements for hot queries; turn off behind a PgBouncer older than 1.21 in transaction mode'),
  DATABASE_SSL_CA_FILE: z.string().optional()
    .describe('CA certificate (PEM) that the PostgreSQL server certificate must chain to; use with sslmode in DATABASE_URL'),
  EMBEDDED_DATABASE_DIR: z.string().min(1).default('.data/postgres')
    .describe('where the embedded PostgreSQL keeps its files when DATABASE_URL is unset'),
  QUERY_TIMEOUT_MS: int(1).default(30000)
    .describe('PostgreSQL statement_timeout and the GraphQL execution deadline'),
  READY_CHECK_TIMEOUT_MS: int(1).default(1000).describe('how long the readiness probe (every second, read by /ready) waits for the database'),
  KEEP_ALIVE_TIMEOUT_MS: int(1).default(72000)
    .describe('HTTP keep-alive timeout; keep it above the load balancer idle timeout'),
  REDIS_URL: url(['redis:', 'rediss:']).optional()
    .describe('Redis for cache, rate limits and persisted queries; unset = in-process (refused in production)'),
  REDIS_TLS_CA_FILE: z.string().optional()
    .describe('CA certificate (PEM) that the Redis server certificate must chain to; with a rediss:// REDIS_URL (public CAs need nothing)'),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{0,64}$/).default('bastion:')
    .describe('prefix of every Redis key and channel, so services (or test runs) can share one Redis'),
  REDIS_COMMAND_TIMEOUT_MS: int(1).default(50)
    .describe('per Redis command (ioredis commandTimeout); a timed-out command counts towards the breaker'),
  REDIS_BREAKER_FAILURES: int(1).default(5)
    .describe('consecutive failed Redis calls that open the circuit breaker (calls then skip Redis)'),
  REDIS_BREAKER_RESET_MS: int(1).default(1000)
    .describe('how long the open breaker skips Redis before a background PING probes it again'),
  CACHE_TTL_SECONDS: int(0).default(30).describe('default resolver cache TTL; 0 turns the cache off'),
  CACHE_MAX_ENTRIES: int(1).default(10000).describe('entries the in-process cache level keeps (least recently used go first)'),
  MAX_QUERY_DEPTH: int(0).default(10).describe('deepest selection allowed (root field = 0); 0 disables'),
  MAX_QUERY_COMPLEXITY: int(0).default(1000)
    .describe('highest cost allowed (list fields multiply by their limit); 0 disables'),
  MAX_ALIASES: int(0).default(15).describe('most aliases per document; 0 disables'),
  MAX_TOKENS: int(0).default(2000).describe('most lexical tokens per document; 0 disables'),
  MAX_DIRECTIVES: int(0).default(50).describe('most directives per document; 0 disables'),
  MAX_BATCH: int(0).default(0).describe('operations per batched request; 0 = batching off'),
  BODY_LIMIT_BYTES: int(1).default(1048576).describe('request body limit (413 above)'),
  RATE_LIMIT_MAX: int(0).default(100).describe('requests per client per window; 0 disables'),
  RATE_LIMIT_WINDOW_MS: int(1).default(60000).describe('rate-limit window'),
  RATE_LIMIT_POINTS: int(0).default(10000)
    .describe('complexity points per client per window (cost budget); 0 disables'),
  CORS_ORIGINS: list.default([])
    .describe('comma-separated allowed origins; empty = no cross-origin access; * refused in production'),
  JWT_SECRET: z.string().optional()
    .describe('HS256 secret, at least 32 characters; required in production unless a JWKS verifies tokens (a dev value is used elsewhere)'),
  JWT_ISSUER: z.string().optional().describe('expected iss claim, checked when set'),
  JWT_AUDIENCE: z.string().optional().describe('expected aud claim, checked when set'),
  // identity providers (docs/identity.md): a JWKS, fetched and refreshed; HS256 with JWT_SECRET otherwise
  JWT_JWKS_URL: url(['https:', 'http:']).optional()
    .describe("the identity provider's JWKS (public keys); set, tokens are verified with it and never with JWT_SECRET"),
  JWT_OIDC_DISCOVERY: bool.default(false)
    .describe('read the JWKS address (jwks_uri) from JWT_ISSUER + /.well-known/openid-configuration at start-up'),
  JWT_ALGORITHMS: list.pipe(z.array(z.enum(JWT_ALGORITHM_NAMES, { message: `one of ${JWT_ALGORITHM_NAMES.join(', ')} (none is never allowed)` }))).optional()
    .describe('comma-separated algorithms accepted; default RS256 with a JWKS, HS256 with JWT_SECRET; HS* never with a JWKS'),
  JWT_ROLES_CLAIM: z.string().min(1).max(200).default('roles')
    .describe('claim holding the roles, a name or dotted path (realm_access.roles for Keycloak, cognito:groups, a namespaced claim for Auth0)'),
  JWT_SUBJECT_CLAIM: z.string().min(1).max(200).default('sub')
    .describe("claim holding the caller's user id (an integer id of this service), a name or dotted path"),
  JWT_CLOCK_TOLERANCE_S: int(0, 300).default(5).describe('seconds of clock skew allowed on exp, nbf and iat'),
  JWT_JWKS_REFRESH_MIN_S: int(1, 86400).default(30)
    .describe('fewest seconds between two JWKS fetches, so tokens with unknown key ids cannot make the server hammer the provider'),
  GRAPHIQL: bool.optional().describe('serve GraphiQL at /graphiql; on outside production, refused in production'),
  INTROSPECTION: bool.optional().describe('allow introspection; on outside production, refused in production'),
  TRUST_PROXY: bool.default(false).describe('honour X-Forwarded-* from a load balancer'),
  TRUST_PROXY_HOPS: int(1, 10).default(1)
    .describe('with TRUST_PROXY, how many proxies append to X-Forwarded-For; the client IP is the address that many hops back, so a client cannot pick its own'),
  FORCE_HTTPS: bool.optional()
    .describe('with TRUST_PROXY, redirect X-Forwarded-Proto: http to https; on in production'),
  SENTRY_DSN: url(['http:', 'https:']).optional().describe('Sentry DSN for error tracking; unset = off'),
  PERSISTED_QUERIES: z.enum(['off', 'automatic', 'only']).default('off')
    .describe('off, automatic (APQ shared through Redis) or only (trusted documents)'),
  PERSISTED_QUERIES_FILE: z.string().default('persisted-queries.json')
    .describe('trusted documents (hash -> query) loaded at start-up when PERSISTED_QUERIES=only'),
  PERSISTED_QUERIES_TTL_HOURS: int(1).default(168)
    .describe('how long an automatic persisted query (APQ) stays registered in Redis'),
  PERSISTED_QUERIES_MAX_PER_DAY: int(0).default(2000)
    .describe('new APQ registrations kept per UTC day across all instances (0 = none kept); past it queries still run, unregistered. Bounds Redis to about this x TTL days x 16 KB'),
  SLOW_QUERY_MS: int(0).default(500).describe('database statements slower than this are logged at warn'),
  SLOW_OPERATION_MS: int(0).default(1000)
    .describe('GraphQL operations slower than this are logged at warn, with their (redacted) variables'),
  METRICS_TOKEN: z.string().min(16).optional()
    .describe('when set, /metrics needs Authorization: Bearer <token> (at least 16 characters)'),
  METRICS_OPERATION_NAMES_MAX: int(0).default(100)
    .describe('distinct operation names kept as metric label values; later ones are other'),
  METRICS_PORT: int(1, 65535).optional()
    .describe('serve /metrics on this port only (an internal one) instead of the public PORT; unset = on PORT'),
  ACTIVE_CALLERS_WINDOW_SECONDS: int(1, 86400).default(300)
    .describe('the active_callers gauge counts distinct authenticated callers seen in this many seconds'),
  SHUTDOWN_DELAY_MS: int(0).optional()
    .describe('after SIGTERM, keep serving (while /ready says 503) this long; 5000 in production, else 0'),
  SHUTDOWN_GRACE_MS: int(1).default(20000).describe('hard stop this long after SIGTERM'),
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: int(0).default(1000)
    .describe('shed load (503 + Retry-After) while the mean event-loop delay is above this; 0 = off'),
  PRESSURE_MAX_HEAP_USED_BYTES: int(0).optional()
    .describe('shed load while the V8 heap in use is above this; unset = 90% of the heap limit, 0 = off'),
  PRESSURE_MAX_RSS_BYTES: int(0).default(0)
    .describe('shed load while the resident set is above this (set it to ~90% of the container memory limit); 0 = off'),
  PRESSURE_SAMPLE_INTERVAL_MS: int(10).default(1000).describe('how often event-loop delay and memory are sampled'),
  PRESSURE_RETRY_AFTER_SECONDS: int(1).default(10).describe('Retry-After sent with a shed request'),
  IDEMPOTENCY_TTL_HOURS: int(1).default(24).describe('how long an Idempotency-Key and its result are kept'),
  MIGRATION_DATABASE_URL: url(['postgres:', 'postgresql:']).optional()
    .describe('owner role for migrations; defaults to DATABASE_URL'),
  DATABASE_APP_ROLE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'a plain role name (letters, digits, _)').optional()
    .describe('role the server runs as; npm run migrate creates or updates it with row access only (no DDL, no TRUNCATE, no pgmigrations); unset = the user of DATABASE_URL when MIGRATION_DATABASE_URL names another, else one role for both'),
  UNSAFE_ALLOW_DISABLED_LIMITS: bool.default(false)
    .describe('benchmark only: lets production start with limits set to 0 (disabled); never set it in a deployment'),
  READ_ONLY: bool.default(false).describe('mutations fail fast with SERVICE_READ_ONLY; queries keep working'),
  SWITCHES_REFRESH_S: int(1, 3600).default(30)
    .describe('each instance re-reads the runtime switches (npm run switch) from Redis this often, besides on every change and reconnect'),
  // Tracing: the standard OpenTelemetry variables (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/)
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']).optional()
    .describe('OTLP/HTTP collector base URL (traces go to <url>/v1/traces); unset (and no traces endpoint) = tracing off'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url(['http:', 'https:']).optional()
    .describe('full OTLP/HTTP traces URL, used as given; overrides OTEL_EXPORTER_OTLP_ENDPOINT'),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json']).default('http/protobuf')
    .describe('OTLP encoding: http/protobuf or http/json (grpc is not supported)'),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().regex(/^([^=,\s]+=[^,]*)(,[^=,\s]+=[^,]*)*$/, 'key=value pairs separated by commas').optional()
    .describe('headers sent with every export, key=value,key2=value2 (a hosted backend\'s API key)'),
  OTEL_TRACES_SAMPLER: z.enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
    .default('parentbased_always_on').describe('which traces are kept; parentbased_* follow an incoming traceparent\'s sampled flag'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1)
    .describe('the ratio (0..1) for traceidratio and parentbased_traceidratio'),
  OTEL_SERVICE_NAME: z.string().regex(/^[\w.:/-]{1,100}$/).default('bastion').describe('service.name on every span'),
  // Read replicas (docs/replicas.md): queries on a healthy replica, mutations on the primary
  DATABASE_REPLICA_URLS: list.default([])
    .describe('comma-separated PostgreSQL streaming replicas that serve queries (round-robin); empty = the primary serves everything'),
  DATABASE_REPLICA_POOL_MAX: int(1, 1000).default(10).describe('most connections each replica pool opens'),
  REPLICA_MAX_LAG_MS: int(1).default(1000)
    .describe('a replica replaying more than this behind the primary (checked every second) is skipped until it catches up')
})

type Raw = z.output<typeof schema>
export type Config = Readonly<Omit<Raw, 'GRAPHIQL' | 'INTROSPECTION' | 'FORCE_HTTPS' | 'SHUTDOWN_DELAY_MS' | 'JWT_ALGORITHMS'> & {
  JWT_ALGORITHMS: string[]
  /** a JWKS verifies tokens (JWT_JWKS_URL or JWT_OIDC_DISCOVERY) */
  jwks: boolean
  /** development only: the last JWKS fetched, used (with a warning) when the provider is down at start-up */
  jwksCacheFile: string | undefined
  GRAPHIQL: boolean
  INTROSPECTION: boolean
  FORCE_HTTPS: boolean
  SHUTDOWN_DELAY_MS: number
  JWT_SECRET: string
  isProduction: boolean
  /** DATABASE_URL unset: the embedded PostgreSQL serves the pool. */
  embeddedDatabase: boolean
  /** development only: apply migrations (and seed an empty embedded database) at start-up */
  migrateOnStart: boolean
  /** where spans go (OTLP/HTTP); undefined = tracing off */
  otlpTracesUrl: string | undefined
}>

/** Variables whose value may come from a file named by NAME_FILE (Docker and Kubernetes secrets). */
export const FILE_VARIABLES = ['JWT_SECRET', 'DATABASE_URL', 'DATABASE_REPLICA_URLS', 'MIGRATION_DATABASE_URL', 'REDIS_URL', 'SENTRY_DSN', 'METRICS_TOKEN', 'OTEL_EXPORTER_OTLP_HEADERS'] as const

const DEV_JWT_SECRET = 'bastion-development-secret-not-for-production'

export class ConfigError extends Error {
  constructor (readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

function productionProblems (c: Config, raw: Record<string, string | undefined>): string[] {
  const p: string[] = []
  if (!c.DATABASE_URL) p.push('DATABASE_URL: required in production (the embedded database is for development)')
  if (!c.REDIS_URL) p.push('REDIS_URL: required in production (in-process cache and rate limits are per instance)')
  if (!raw.JWT_SECRET && !c.jwks) p.push('JWT_SECRET: required in production (at least 32 characters), or a JWKS (JWT_JWKS_URL or JWT_OIDC_DISCOVERY)')
  if (c.jwks) {
    if (!c.JWT_ISSUER) p.push("JWT_ISSUER: required in production with a JWKS (your identity provider's issuer)")
    if (!c.JWT_AUDIENCE) p.push('JWT_AUDIENCE: required in production with a JWKS (the API identifier your provider puts in aud)')
    const keysFrom = c.JWT_JWKS_URL ?? (c.JWT_OIDC_DISCOVERY ? c.JWT_ISSUER : undefined)
    // plain http only to this host (a sidecar): anywhere else, whoever can alter the answer mints tokens
    if (keysFrom && !keysFrom.startsWith('https:') && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(keysFrom)) {
      p.push('JWT_JWKS_URL / JWT_ISSUER: the keys must be fetched over https:// in production')
    }
  }
  if (c.CORS_ORIGINS.includes('*')) p.push('CORS_ORIGINS: * is refused in production; list the allowed origins')
  if (c.GRAPHIQL) p.push('GRAPHIQL: must be off in production')
  if (c.INTROSPECTION) p.push('INTROSPECTION: must be off in production')
  for (const name of ['MAX_QUERY_DEPTH', 'MAX_QUERY_COMPLEXITY', 'MAX_ALIASES', 'MAX_TOKENS', 'MAX_DIRECTIVES', 'RATE_LIMIT_MAX', 'RATE_LIMIT_POINTS'] as const) {
    if (c[name] === 0 && !c.UNSAFE_ALLOW_DISABLED_LIMITS) p.push(`${name}: 0 disables a protection; production needs a limit`)
  }
  return p
}

function identityProblems (c: Config): string[] {
  const p: string[] = []
  const hs = c.JWT_ALGORITHMS.filter((a) => a.startsWith('HS'))
  if (c.jwks && hs.length > 0) p.push(`JWT_ALGORITHMS: ${hs.join(', ')} is never accepted with a JWKS (a public key must not double as a secret)`)
  if (!c.jwks && hs.length < c.JWT_ALGORITHMS.length) p.push('JWT_ALGORITHMS: RS, PS, ES and EdDSA need a JWKS (JWT_JWKS_URL or JWT_OIDC_DISCOVERY)')
  if (c.JWT_JWKS_URL && c.JWT_OIDC_DISCOVERY) p.push('JWT_OIDC_DISCOVERY: set either JWT_JWKS_URL or JWT_OIDC_DISCOVERY, not both')
  if (c.JWT_OIDC_DISCOVERY && !/^https?:\/\//.test(c.JWT_ISSUER ?? '')) p.push('JWT_ISSUER: JWT_OIDC_DISCOVERY needs the issuer URL (https://...)')
  return p
}

function readFileVariables (env: Record<string, string | undefined>, problems: string[]): Record<string, string | undefined> {
  const out = { ...env }
  for (const name of FILE_VARIABLES) {
    const file = env[`${name}_FILE`]
    if (!file) continue
    if (env[name]) { problems.push(`${name}: set both ${name} and ${name}_FILE; keep one`); continue }
    try {
      out[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  return out
}

/** Parse and check an environment; throws ConfigError listing every problem. */
export function loadConfig (env: Record<string, string | undefined> = readEnvironment()): Config {
  const problems: string[] = []
  // Empty strings mean "unset", as in most .env files.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const raw = readFileVariables(cleaned, problems)
  let parsed = schema.safeParse(raw)
  // variables that failed to parse: reported once; the rest is still checked against the
  // production policy below, so one run prints every problem
  const unparsed = new Set<string>()
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.')}: ${issue.message}`)
      unparsed.add(String(issue.path[0]))
    }
    parsed = schema.safeParse(Object.fromEntries(Object.entries(raw).filter(([name]) => !unparsed.has(name))))
    if (!parsed.success) throw new ConfigError(problems)
  }
  const v = parsed.data
  const isProduction = v.NODE_ENV === 'production'
  const jwks = v.JWT_JWKS_URL !== undefined || v.JWT_OIDC_DISCOVERY
  const config: Config = {
    ...v,
    GRAPHIQL: v.GRAPHIQL ?? !isProduction,
    INTROSPECTION: v.INTROSPECTION ?? !isProduction,
    FORCE_HTTPS: v.FORCE_HTTPS ?? isProduction,
    SHUTDOWN_DELAY_MS: v.SHUTDOWN_DELAY_MS ?? (isProduction ? 5000 : 0),
    JWT_SECRET: v.JWT_SECRET ?? DEV_JWT_SECRET,
    JWT_ALGORITHMS: v.JWT_ALGORITHMS ?? (jwks ? ['RS256'] : ['HS256']),
    jwks,
    jwksCacheFile: jwks && v.NODE_ENV === 'development' ? '.data/jwks.json' : undefined,
    isProduction,
    embeddedDatabase: !v.DATABASE_URL,
    migrateOnStart: v.NODE_ENV === 'development',
    otlpTracesUrl: v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
      (v.OTEL_EXPORTER_OTLP_ENDPOINT ? `${v.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined)
  }
  if (v.JWT_SECRET !== undefined && v.JWT_SECRET.length < 32) problems.push('JWT_SECRET: must be at least 32 characters')
  // an origin is scheme://host[:port] exactly as browsers send it: a path or a trailing slash never matches
  for (const o of v.CORS_ORIGINS) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) problems.push(`CORS_ORIGINS: ${o} is not an origin (scheme://host[:port], no path)`)
  }
  problems.push(...identityProblems(config))
  if (v.DATABASE_POOL_MIN > v.DATABASE_POOL_MAX) problems.push('DATABASE_POOL_MIN: must not exceed DATABASE_POOL_MAX')
  for (const r of v.DATABASE_REPLICA_URLS) {
    if (!/^postgres(ql)?:\/\//.test(r) || !URL.canParse(r)) problems.push('DATABASE_REPLICA_URLS: every entry must be a URL starting with postgres:// or postgresql://')
  }
  if (v.DATABASE_REPLICA_URLS.length > 0 && !v.DATABASE_URL) problems.push('DATABASE_REPLICA_URLS: replicas need DATABASE_URL (the primary); the embedded database has none')
  if (v.REDIS_TLS_CA_FILE && !v.REDIS_URL?.startsWith('rediss:')) problems.push('REDIS_TLS_CA_FILE: needs a rediss:// REDIS_URL (TLS)')
  if (v.SHUTDOWN_DELAY_MS !== undefined && v.SHUTDOWN_DELAY_MS >= v.SHUTDOWN_GRACE_MS) {
    problems.push('SHUTDOWN_DELAY_MS: must be shorter than SHUTDOWN_GRACE_MS')
  }
  if (isProduction) problems.push(...productionProblems(config, raw).filter((p) => !unparsed.has(p.slice(0, p.indexOf(':')))))
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(config)
}

/**
 * loadConfig() for an entry point (the server and the CLIs): a ConfigError prints every problem
 * to stderr and exits 1; any other error is thrown on.
 */
export function loadConfigOrExit (): Config {
  try {
    return loadConfig()
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`${err.message}\n`)
    process.exit(1)
  }
}

/** process.env, with a `.env` file in the working directory filling what the environment leaves unset. */
export function readEnvironment (): Record<string, string | undefined> {
  const fromFile = existsSync('.env') ? parseEnv(readFileSync('.env', 'utf8')) : {}
  return { ...fromFile, ...process.env }
}
