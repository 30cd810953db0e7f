// The schema lives in .graphql files: what every domain shares (the directives, src/graphql/schema/,
// in name order), then each domain's own file in registry order (src/domain/index.ts).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { domains } from './domain.js'
import { SCHEMA_DIR } from '../paths.js'

export function loadTypeDefs (): string {
  const shared = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.graphql')).sort().map((f) => join(SCHEMA_DIR, f))
  return [...shared, ...domains.map((domain) => domain.typeDefs)].map((file) => readFileSync(file, 'utf8')).join('\n')
}
