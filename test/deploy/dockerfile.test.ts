// The rules docker/Dockerfile and .dockerignore must keep (issue: container and scale-out).
// runtime.test.ts runs the runtime stage for real; this file checks what needs no running.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { schema } from '../../src/config.js'
import { ROOT } from '../../src/paths.js'
import { contextFilter, envOf, execForm, flags, of, parseDockerfile, words } from './dockerfile.js'

const dockerfile = parseDockerfile()
const runtime = dockerfile.stage('runtime')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
const runs = (stageName: string) => of(dockerfile.stage(stageName), 'RUN').map((i) => words(i).join(' '))

describe('docker/Dockerfile', () => {
  it('has the stages deps, build and runtime, the last one being runtime', () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(['deps', 'build', 'runtime'])
    expect(dockerfile.stage('build').from).toBe('deps')
  })

  it('builds on a slim Node image pinned to a full version, of the major CI tests with', () => {
    for (const stage of dockerfile.stages.filter((s) => !dockerfile.stages.some((o) => o.name === s.from))) {
      const m = /^node:(\d+)\.(\d+)\.(\d+)-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/.exec(stage.from)
      expect(m, `${stage.name} FROM ${stage.from}`).not.toBeNull()
      expect(Number(m![1])).toBeGreaterThanOrEqual(20)
      expect(Number(m![1]), 'runtime.test.ts runs the image\'s files on this Node').toBe(Number(process.versions.node.split('.')[0]))
    }
  })

  it('installs only production dependencies in the runtime stage, from the lockfile', () => {
    expect(runs('runtime').filter((r) => /\bnpm (ci|install|i)\b/.test(r))).toEqual([expect.stringMatching(/^npm ci --omit=dev\b/)])
    expect(runs('deps')).toEqual([expect.stringMatching(/^npm ci\b/)])
    expect(runs('build')).toEqual(['npm run build'])
  })

  it('runs as a numeric non-root user, under an init process, with the production environment', () => {
    const user = words(of(runtime, 'USER').at(-1)!)[0]
    expect(user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/)
    expect(execForm(of(runtime, 'ENTRYPOINT').at(-1)!)).toEqual(['/usr/bin/tini', '--'])
    expect(runs('runtime').some((r) => /apt-get install .*\btini\b/.test(r))).toBe(true)
    const env = envOf(runtime)
    expect(env).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0' })
    expect(words(of(runtime, 'EXPOSE')[0])).toEqual([String(env.PORT ?? schema.shape.PORT.parse(undefined))])
    expect(env.PORT ?? '8000').toBe('8000')
  })

  it('starts with the same command as npm start, without npm', () => {
    expect(execForm(of(runtime, 'CMD').at(-1)!).join(' ')).toBe(pkg.scripts.start)
  })

  it('checks /health without curl', () => {
    const check = of(runtime, 'HEALTHCHECK')
    expect(check).toHaveLength(1)
    const cmd = execForm(check[0])
    expect(cmd[0]).toBe('node')
    expect(cmd.join(' ')).toContain("'/health'")
    expect(cmd.join(' ')).not.toMatch(/curl|wget/)
    expect(flags(check[0])).toMatchObject({ interval: expect.any(String), timeout: expect.any(String) })
  })

  it('copies into the runtime stage what the app reads at run time, and nothing of the checkout else', () => {
    const copies = of(runtime, 'COPY').map((i) => ({ from: flags(i).from ?? null, paths: words(i) }))
    expect(copies).toEqual([
      { from: null, paths: ['package.json', 'package-lock.json', './'] },
      { from: null, paths: ['src/graphql/schema', './src/graphql/schema'] },
      { from: null, paths: ['src/domain', './src/domain'] },
      { from: null, paths: ['migrations', './migrations'] },
      { from: 'build', paths: ['/app/dist', './dist'] }
    ])
  })
})

describe('.dockerignore', () => {
  const inContext = contextFilter()
  it('lets in every path a COPY names', () => {
    for (const stage of dockerfile.stages) {
      for (const copy of of(stage, 'COPY').filter((i) => !flags(i).from)) {
        for (const src of words(copy).slice(0, -1)) expect(inContext(join(ROOT, src)), src).toBe(true)
      }
    }
    expect(inContext(join(ROOT, 'src/graphql/schema/directives.graphql'))).toBe(true)
    expect(inContext(join(ROOT, 'src/domain/users/schema.graphql'))).toBe(true)
  })

  it('keeps tests, local data, dependencies, build output and secrets out', () => {
    for (const path of ['test/health.test.ts', '.data/postgres/PG_VERSION', 'node_modules/pg/package.json', 'dist/src/server.js',
      'src/domain/users/users.test.ts', '.env', '.env.production', 'docker/.env', 'src/.env', 'src/certs/server.key', 'tls.pem', 'backups/x.dump', '.git/config', 'k6/load.js']) {
      expect(inContext(join(ROOT, path)), path).toBe(false)
    }
  })
})
