// pino options: JSON lines to stdout; secrets redacted; pretty output only in development.
// Credential headers and top-level password/token/secret keys are hidden by the log formatter
// (src/observability/log-redact.ts); GraphQL variables by key name, at any depth, through the
// `variables` serializer (src/observability/redact.ts).
import type { LoggerOptions } from 'pino'
import type { Config } from './config.js'
import { redactBindings, redactLine, serializeError } from './observability/log-redact.js'
import { redactVariables } from './observability/redact.js'
import { traceIds } from './observability/trace-ids.js'

export function loggerOptions (config: Config, pretty = false): LoggerOptions {
  return {
    level: config.LOG_LEVEL,
    formatters: { log: redactLine },
    onChild: redactBindings,
    serializers: { variables: redactVariables, err: serializeError },
    // tracing on: trace_id and span_id on every line logged inside a traced request (nothing added otherwise)
    ...(config.otlpTracesUrl ? { mixin: traceIds } : {}),
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}
