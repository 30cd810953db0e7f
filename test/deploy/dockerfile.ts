// docker/Dockerfile read with dockerfile-ast, and its stages replayed in plain directories (no
// Docker engine here): COPY copies what the build context (after .dockerignore) or an earlier
// stage holds, RUN runs the npm steps for real. A RUN it does not know fails the replay, so a new
// step in the Dockerfile cannot go unchecked.
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { promisify } from 'node:util'
import dockerignore from '@balena/dockerignore'
import { DockerfileParser, type Instruction } from 'dockerfile-ast'
import { ROOT } from '../../src/paths.js'

const run = promisify(execFile)
// the package's types declare an ES default export; its code is `module.exports = factory`
type Factory = typeof dockerignore extends { default: infer F } ? F : typeof dockerignore
const ignore = ((dockerignore as { default?: unknown }).default ?? dockerignore) as Factory
const DOCKERFILE = join(ROOT, 'docker', 'Dockerfile')
const WORKDIR = '/app'

export interface Stage { name: string, from: string, instructions: Instruction[] }

export function parseDockerfile (file = DOCKERFILE) {
  const d = DockerfileParser.parse(readFileSync(file, 'utf8'))
  const args = Object.fromEntries(d.getInitialARGs().map((a) => [a.getProperty()!.getName(), a.getProperty()!.getValue() ?? '']))
  const expand = (s: string) => s.replace(/\$\{?(\w+)\}?/g, (_, name: string) => args[name] ?? '')
  const stages: Stage[] = d.getFROMs().map((f, i, all) => {
    const next = all[i + 1]?.getRange()!.start.line ?? Infinity
    const start = f.getRange()!.start.line
    return {
      name: f.getBuildStage() ?? String(i),
      from: expand(f.getImage()!),
      instructions: d.getInstructions().filter((ins) => ins.getRange()!.start.line > start && ins.getRange()!.start.line < next)
    }
  })
  return { args, stages, stage: (name: string) => stages.find((s) => s.name === name)! }
}

const keyword = (i: Instruction) => i.getKeyword()
export const words = (i: Instruction) => i.getArguments().map((a) => a.getValue())
export const flags = (i: Instruction) => Object.fromEntries(((i as any).getFlags?.() ?? []).map((f: any) => [f.getName(), f.getValue()]))
export const of = (stage: Stage, kw: string) => stage.instructions.filter((i) => keyword(i) === kw)

/** an exec-form (JSON) CMD, ENTRYPOINT or HEALTHCHECK CMD; throws on the shell form */
export function execForm (i: Instruction): string[] {
  const text = i.getArgumentsContent()!.replace(/^(--\S+\s+)*(CMD\s+)?/, '').replace(/\\\r?\n/g, ' ')
  const parsed = JSON.parse(text)
  if (!Array.isArray(parsed)) throw new Error(`${keyword(i)} is not in exec form`)
  return parsed
}

export function envOf (stage: Stage): Record<string, string> {
  return Object.fromEntries(of(stage, 'ENV').flatMap((i) => (i as any).getProperties().map((p: any) => [p.getName(), p.getValue()])))
}

export interface Replay { dirs: Record<string, string>, env: Record<string, string>, cmd: string[], entrypoint: string[], aptPackages: string[] }

/** what the build context holds (relative paths), after .dockerignore */
export function contextFilter () {
  const ig = ignore().add(readFileSync(join(ROOT, '.dockerignore'), 'utf8'))
  return (path: string) => !ig.ignores(relative(ROOT, path) || '.')
}

function inStage (dir: string, path: string) {
  return join(dir, path.startsWith('/') ? relative(WORKDIR, path) : path)
}

function copy (source: string, dest: string, keep: (p: string) => boolean) {
  if (!existsSync(source)) throw new Error(`COPY: ${source} does not exist`)
  const target = statSync(source).isDirectory() || !dest.endsWith('/') ? dest : join(dest, source.split('/').pop()!)
  mkdirSync(dirname(target), { recursive: true })
  cpSync(source, target, { recursive: true, filter: keep })
  if (statSync(source).isDirectory() && readdirSync(target).length === 0) throw new Error(`COPY: nothing of ${source} is in the build context`)
}

/** Replays the stages up to `target` under `root`; returns the directory of each and the target's runtime settings. */
export async function replay (target: string, root: string): Promise<Replay> {
  const { stages } = parseDockerfile()
  const dirs: Record<string, string> = {}
  const aptPackages: string[] = []
  const inContext = contextFilter()
  for (const stage of stages) {
    const dir = dirs[stage.name] = join(root, stage.name)
    if (dirs[stage.from]) cpSync(dirs[stage.from], dir, { recursive: true, verbatimSymlinks: true })
    else mkdirSync(dir, { recursive: true })
    for (const ins of stage.instructions) {
      const w = words(ins)
      switch (keyword(ins)) {
        case 'WORKDIR': if (w[0] !== WORKDIR) throw new Error(`replay assumes WORKDIR ${WORKDIR}, not ${w[0]}`); break
        case 'COPY': {
          const from = flags(ins).from as string | undefined
          const dest = inStage(dir, w.at(-1)!) + (w.at(-1)!.endsWith('/') ? '/' : '')
          for (const src of w.slice(0, -1)) {
            if (from) copy(inStage(dirs[from], src), dest, () => true)
            else copy(join(ROOT, src), dest, inContext)
          }
          break
        }
        case 'RUN': {
          const text = w.join(' ')
          if (/^npm ci --omit=dev\b/.test(text)) await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, maxBuffer: 64 << 20 })
          // every dependency, for the compiler: the checkout's own node_modules (same lockfile)
          else if (/^npm ci\b/.test(text)) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
          else if (text === 'npm run build') await run('npm', ['run', 'build'], { cwd: dir })
          else if (/^apt-get update && apt-get install/.test(text)) aptPackages.push(...text.split('&&')[1].split(/\s+/).filter((x) => x && !x.startsWith('-') && !['apt-get', 'install'].includes(x)))
          else throw new Error(`replay does not know RUN ${text}`)
          break
        }
      }
    }
    if (stage.name === target) {
      return {
        dirs,
        env: envOf(stage),
        cmd: execForm(of(stage, 'CMD').at(-1)!),
        entrypoint: execForm(of(stage, 'ENTRYPOINT').at(-1)!),
        aptPackages
      }
    }
  }
  throw new Error(`no stage ${target}`)
}
