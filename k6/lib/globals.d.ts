// k6 provides console (log, info, warn, error, debug) but @types/k6 0.48 does not declare it.
declare const console: {
  log (...args: unknown[]): void
  info (...args: unknown[]): void
  warn (...args: unknown[]): void
  error (...args: unknown[]): void
  debug (...args: unknown[]): void
}
