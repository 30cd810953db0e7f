// Prepares the database once per run: a migrated, seeded template database (each test file copies
// it) on the server TEST_DATABASE_URL names, or else on an embedded PostgreSQL started for the run.
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import pg from 'pg'
import { migrate } from '../src/db/migrate.js'
import { withDatabase } from '../src/db/connection.js'
import { seedDatabase } from '../src/db/seed.js'
import { startEmbedded, type EmbeddedDatabase } from '../src/db/embedded.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** connection string of the PostgreSQL server: TEST_DATABASE_URL, or the embedded one's */
    databaseUrl: string
    /** name of the migrated, seeded template database each test file copies */
    templateDatabase: string
  }
}

async function seeded (connection: string) {
  await migrate({ connection })
  await seedDatabase(connection)
}

export default async function setup (project: TestProject) {
  // without TEST_DATABASE_URL: one throwaway embedded PostgreSQL for the run, used exactly as a
  // real server (a template database, a copy per test file)
  let embedded: EmbeddedDatabase | undefined
  if (!process.env.TEST_DATABASE_URL) {
    embedded = await startEmbedded({ dir: mkdtempSync(join(tmpdir(), 'bastion-test-pg-')), maxConnections: 300, throwaway: true })
  }
  const serverUrl = process.env.TEST_DATABASE_URL ?? embedded!.url
  const template = `bastion_tpl_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${template}`)
  await seeded(withDatabase(serverUrl, template))
  project.provide('databaseUrl', serverUrl)
  project.provide('templateDatabase', template)
  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`)
    await admin.end()
    await embedded?.stop()
  }
}
