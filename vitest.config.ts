import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

// Every test file gets its own database (copied from a migrated, seeded template) on the server
// TEST_DATABASE_URL names or else on an embedded PostgreSQL started for the run (test/global-setup.ts),
// so files run in parallel.
export default defineConfig({
  // Node resolves `graphql` to its CommonJS build (package.json "main"), which mercurius also
  // loads; Vite would pick the ESM build ("module") for our sources: two graphql realms, whose
  // instanceof checks fail (isListType, GraphQLError). Tests must load what production loads.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    // a domain's tests live in its folder (src/domain/<name>/), so copying the folder copies them
    include: ['test/**/*.test.ts', 'src/domain/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // the Redis keys of each file's test apps are deleted after it
    setupFiles: ['test/setup-redis.ts'],
    pool: 'forks',
    // tests mostly wait on PostgreSQL, Redis and child servers: two files at a time even on 2 cores
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    reporters: ['default'],
    // `npm run test:coverage` (CI runs it): v8 coverage of src/, and thresholds just under what the
    // suite reaches, so coverage cannot silently fall. The open report: coverage/index.html.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      // generated code; and entry points that tests run as child processes, which v8 coverage
      // of the test workers cannot see (test/server.test.ts, test/db/migrate.test.ts, ...)
      exclude: ['src/**/*.test.ts', 'src/domain/generated.ts', 'src/server.ts', 'src/instrument.ts', 'src/compile-cache.ts', 'src/check-config.ts', 'src/token-cli.ts', 'src/db/*-cli.ts'],
      reporter: ['text-summary', 'html', 'json-summary'],
      reportsDirectory: 'coverage',
      // the report helps most when a run fails
      reportOnFailure: true,
      // reached on 2026-11-29: statements 93.4, branches 86.0, functions 92.3, lines 95.6
      thresholds: { statements: 88, branches: 80, functions: 87, lines: 90 }
    }
  }
})
