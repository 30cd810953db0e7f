// The schema lives in .graphql files (src/graphql/schema/), concatenated in name order.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SCHEMA_DIR } from '../paths.js'

export function loadTypeDefs (dir = SCHEMA_DIR): string {
  return readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort()
    .map((f) => readFileSync(join(dir, f), 'utf8')).join('\n')
}
