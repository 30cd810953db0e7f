// Prepares the database once per run: a migrated, seeded template database on the real
// PostgreSQL (each test file copies it), or one embedded PGlite shared by all files.
import { randomBytes } from 'node:crypto'
import type { TestProject } from 'vitest/node'
import pg from 'pg'
import { migrate } from '../src/db/migrate.js'
import { withDatabase } from '../src/db/connection.js'
import { seedDatabase } from '../src/db/seed.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** connection string of the server (real) or of the embedded database */
    databaseUrl: string
    /** name of the template database (real PostgreSQL only) */
    templateDatabase: string | null
  }
}

async function seeded (connection: string) {
  await migrate({ connection })
  await seedDatabase(connection)
}

export default async function setup (project: TestProject) {
  const realUrl = process.env.TEST_DATABASE_URL
  if (realUrl) {
    const template = `bastion_tpl_${randomBytes(4).toString('hex')}`
    const admin = new pg.Client({ connectionString: realUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${template}`)
    await seeded(withDatabase(realUrl, template))
    project.provide('databaseUrl', realUrl)
    project.provide('templateDatabase', template)
    return async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`)
      await admin.end()
    }
  }
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  const db = await PGlite.create()
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 100 })
  await server.start()
  const url = `postgres://postgres@${server.getServerConn()}/postgres`
  await seeded(url)
  project.provide('databaseUrl', url)
  project.provide('templateDatabase', null)
  return async () => {
    await server.stop()
    await db.close()
  }
}
