// Writes .env.example and the configuration table in docs/configuration.md from the zod schema in src/config.ts,
// so the description in the schema is the one documentation: `npm run config:docs`.
// The test suite fails when either file is stale.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FILE_VARIABLES, schema } from '../src/config.js'
import { ROOT } from '../src/paths.js'

type Entry = { name: string, value: string | undefined, description: string }

function entries (): Entry[] {
  return Object.entries(schema.shape).map(([name, type]) => {
    const parsed = type.safeParse(undefined)
    const value = parsed.success && parsed.data !== undefined
      ? (Array.isArray(parsed.data) ? parsed.data.join(',') : String(parsed.data))
      : undefined
    return { name, value, description: type.description ?? '' }
  })
}

export function envExample (): string {
  let out = '# Bastion configuration: every variable the server reads, with its default.\n' +
    '# Lines starting with #NAME= are unset by default. Generated from src/config.ts (npm run config:docs).\n' +
    `# Secrets (${FILE_VARIABLES.join(', ')}) may instead be read from a file named by NAME_FILE.\n`
  for (const e of entries()) out += `\n# ${e.description}\n${e.value === undefined ? '#' : ''}${e.name}=${e.value ?? ''}\n`
  return out
}

export function readmeTable (): string {
  const rows = entries().map((e) => `| \`${e.name}\` | ${e.value === undefined ? 'unset' : e.value === '' ? 'empty' : `\`${e.value}\``} | ${e.description.replace(/\|/g, '\\|')} |`)
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n')
}

const START = '<!-- config:start -->'
const END = '<!-- config:end -->'

export function readmeWithTable (readme: string): string {
  const a = readme.indexOf(START)
  const b = readme.indexOf(END)
  if (a < 0 || b < a) throw new Error(`docs/configuration.md needs ${START} and ${END} markers`)
  return `${readme.slice(0, a + START.length)}\n${readmeTable()}\n${readme.slice(b)}`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(join(ROOT, '.env.example'), envExample())
  const readme = join(ROOT, 'docs', 'configuration.md')
  writeFileSync(readme, readmeWithTable(readFileSync(readme, 'utf8')))
}
