// The development default when DATABASE_URL is unset: PGlite (PostgreSQL compiled to WASM) served
// to the ordinary pg Pool over a Unix socket, so the code path is the same as on a real server.
// Limits measured here: every connection shares one session, a transaction blocks the others,
// named prepared statements fail, and it needs ~750 MB. Production refuses it (config.ts).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type pg from 'pg'

export interface EmbeddedDatabase {
  connection: pg.ClientConfig
  stop (): Promise<void>
}

export async function startEmbedded (dataDir: string, maxConnections: number): Promise<EmbeddedDatabase> {
  // Loaded only here: PGlite is a development dependency, absent from the production image.
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  mkdirSync(dataDir, { recursive: true })
  const db = await PGlite.create(resolve(dataDir))
  // A short socket directory: Unix socket paths are limited to ~107 bytes.
  const socketDir = mkdtempSync(join(tmpdir(), 'bastion-pg-'))
  // maxConnections defaults to 1 and silently drops the rest of a pool.
  const server = new PGLiteSocketServer({ db, path: join(socketDir, '.s.PGSQL.5432'), maxConnections })
  await server.start()
  return {
    connection: { host: socketDir, port: 5432, user: 'postgres', database: 'postgres' },
    async stop () {
      await server.stop()
      await db.close()
      rmSync(socketDir, { recursive: true, force: true })
    }
  }
}
