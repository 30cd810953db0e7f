// knip (`npm run lint` runs it after ESLint): unused files, exports, types and dependencies fail
// the lint. Test files are entries through knip's Vitest plugin; src/server.ts, src/instrument.ts
// and the CLIs in src/ through the npm scripts that run them; the rest is named here. k6/ is
// outside `project`: its scripts run inside k6, not Node, and test/k6/ checks them (k6 shims and
// their own tsconfig, `npm run typecheck:k6`).
import type { KnipConfig } from 'knip'

const config: KnipConfig = {
  entry: [
    // scripts and benchmarks are run with tsx, from npm scripts, tests and docs
    'scripts/*.{ts,mjs}',
    'bench/*.ts',
    // loaded with `node --import` by test/resilience/process-safety.test.ts
    'test/helpers/crash-preload.ts'
  ],
  project: ['src/**/*.ts', 'scripts/**/*.{ts,mjs}', 'bench/**/*.ts', 'test/**/*.ts'],
  ignore: [
    // written by mercurius-codegen (`npm run codegen`): every type it emits is kept as emitted
    'src/domain/generated.ts'
  ],
  ignoreDependencies: [
    // served as files from node_modules by src/plugins/graphiql.ts (a package -> file table), not imported
    'graphiql',
    'react',
    'react-dom',
    // a pino transport, named by string in src/logger.ts and loaded by pino in a worker thread
    'pino-pretty',
    // run as node_modules/.bin/remark with `--use remark-validate-links` by test/starter/docs-links.test.ts
    'remark-cli',
    'remark-validate-links'
  ],
  // system programs the tests drive (installed by .ci/run and the CI workflow), not npm packages;
  // valgrind and callgrind_control: `npm run bench -- --instructions` (bench/instructions.ts)
  ignoreBinaries: ['kubectl', 'redis-server', 'prometheus', 'valgrind', 'callgrind_control'],
  // a type or interface exported next to the function that takes it (plugin options, results)
  // is part of that function's signature, kept exported so callers can name it
  ignoreExportsUsedInFile: { interface: true, type: true }
}

export default config
