import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { generate, GENERATED } from '../scripts/codegen.js'

it('src/domain/generated.ts matches the schema (run npm run codegen after a schema change)', async () => {
  expect(readFileSync(GENERATED, 'utf8')).toBe(await generate())
})
