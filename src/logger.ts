// pino options: JSON lines to stdout; secrets redacted; pretty output only in development.
import type { LoggerOptions } from 'pino'
import type { Config } from './config.js'

export function loggerOptions (config: Config, pretty = false): LoggerOptions {
  return {
    level: config.LOG_LEVEL,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.token', '*.secret'],
      censor: '[redacted]'
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}
