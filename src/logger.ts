// pino options: JSON lines to stdout; secrets redacted; pretty output only in development.
// Headers are redacted by path (pino's redact, https://getpino.io/#/docs/redaction); GraphQL
// variables by key name, at any depth, through the `variables` serializer (src/observability/redact.ts).
import type { LoggerOptions } from 'pino'
import type { Config } from './config.js'
import { CENSOR, redactVariables } from './observability/redact.js'
import { traceIds } from './observability/trace-ids.js'

const HEADERS = ['authorization', 'cookie', '["set-cookie"]', '["x-api-key"]']
  .flatMap((h) => ['req.headers', 'res.headers', 'headers'].map((at) => `${at}${h.startsWith('[') ? h : `.${h}`}`))

export function loggerOptions (config: Config, pretty = false): LoggerOptions {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: [...HEADERS, '*.password', '*.token', '*.secret'], censor: CENSOR },
    serializers: { variables: redactVariables },
    // tracing on: trace_id and span_id on every line logged inside a traced request (nothing added otherwise)
    ...(config.otlpTracesUrl ? { mixin: traceIds } : {}),
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}
