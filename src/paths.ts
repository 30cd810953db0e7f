// Paths that must resolve the same from src/ (tsx) and dist/src/ (compiled).
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot (from: string): string {
  let dir = from
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no package.json above ${from}`)
    dir = parent
  }
  return dir
}

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)))
export const MIGRATIONS_DIR = join(ROOT, 'migrations')
export const SCHEMA_DIR = join(ROOT, 'src', 'graphql', 'schema')
export const DOMAIN_DIR = join(ROOT, 'src', 'domain')
