import { defineConfig } from 'vitest/config'

// With TEST_DATABASE_URL every test file gets its own database (copied from a migrated, seeded
// template), so files run in parallel. Without it, one embedded PGlite (~750 MB, one shared
// session) serves the whole run, and files run one after another, each resetting the data.
const realPostgres = Boolean(process.env.TEST_DATABASE_URL)

export default defineConfig({
  // Node resolves `graphql` to its CommonJS build (package.json "main"), which mercurius also
  // loads; Vite would pick the ESM build ("module") for our sources: two graphql realms, whose
  // instanceof checks fail (isListType, GraphQLError). Tests must load what production loads.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    fileParallelism: realPostgres,
    maxWorkers: realPostgres ? 2 : 1,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    reporters: ['default']
  }
})
