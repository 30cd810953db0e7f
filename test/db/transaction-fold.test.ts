// TransactionOptions.fold (src/db/database.ts): the first statement of a transaction rides in
// BEGIN's round trip, after `first`. A refusal of `first` keeps that statement from running and is
// what the transaction rejects with; a failed folded statement leaves the connection usable; a
// statement whose values cannot be inlined is sent on its own. One connection, so every
// transaction below reuses the session the previous one left.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createDatabase, type Database, type QueryEvent } from '../../src/db/database.js'
import { createTestDatabase, type TestDatabase } from '../helpers/app.js'
import { recordRoundTrips } from '../helpers/round-trips.js'

let testDb: TestDatabase
let db: Database
const events: QueryEvent[] = []
let trips: string[] = []
const REFUSAL = 'BXT01'
// raises REFUSAL when the flag is set, the way idempotency_claim refuses a live key
const refuse = (yes: boolean) => () => `DO $$ BEGIN IF ${yes} THEN RAISE EXCEPTION 'refused' USING ERRCODE = '${REFUSAL}'; END IF; END $$`
const fold = { refusal: REFUSAL }

beforeAll(async () => {
  testDb = await createTestDatabase()
  db = createDatabase({ connection: testDb.url, min: 0, max: 1, connectTimeoutMs: 5000, idleTimeoutMs: 10_000, statementTimeoutMs: 5000, preparedStatements: true, onIdleError: () => {} })
  db.onQuery((e) => events.push(e))
  trips = recordRoundTrips(db.pool).sent
  await db.query('setup', 'CREATE TABLE fold_t (id int PRIMARY KEY, note text)')
})
afterAll(async () => {
  await db?.close()
  await testDb?.drop()
})

const rows = async () => (await db.query<{ id: number, note: string }>('rows', 'SELECT id, note FROM fold_t ORDER BY id')).rows

it('sends first and fn\'s first statement with BEGIN: two round trips for a write and its COMMIT', async () => {
  trips.length = 0
  events.length = 0
  const note = await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ note: string }>('fold_insert', 'INSERT INTO fold_t (id, note) VALUES ($1, $2) RETURNING note', [1, 'it\'s \\ "one"'])
    return rows[0].note
  }, { first: refuse(false), fold })
  expect(note).toBe('it\'s \\ "one"')
  expect(trips).toHaveLength(2)
  expect(trips[0]).toMatch(/^BEGIN; DO .*; PREPARE \w+ AS INSERT INTO fold_t .*; EXECUTE \w+\(.*\); DEALLOCATE \w+$/s)
  expect(trips[1]).toBe('COMMIT')
  // observers see the folded statement under its own name
  expect(events.map((e) => [e.name, e.rows, e.error])).toEqual([['fold_insert', 1, undefined]])
  expect(await rows()).toEqual([{ id: 1, note: 'it\'s \\ "one"' }])
})

it('a refusal of first keeps the statement from running, whatever fn makes of the error', async () => {
  const attempt = db.transaction(async (tx) => {
    await tx.query('fold_insert', 'INSERT INTO fold_t (id, note) VALUES ($1, $2)', [2, 'two']).catch(() => { throw new Error('mapped by the caller') })
    return 'written'
  }, { first: refuse(true), fold })
  await expect(attempt).rejects.toMatchObject({ code: REFUSAL })
  expect(await rows()).toEqual([{ id: 1, note: 'it\'s \\ "one"' }])
})

it('a folded statement that fails fails the transaction, even when fn catches the error', async () => {
  // id 1 exists; fn swallows the failure and has nothing to store: COMMIT on the aborted
  // transaction would roll back without an error and report the write as done
  const swallowed = db.transaction(async (tx) => {
    await tx.query('fold_insert', 'INSERT INTO fold_t (id, note) VALUES ($1, $2)', [1, 'again']).catch(() => {})
    return 'written'
  }, { first: refuse(false), fold })
  await expect(swallowed).rejects.toMatchObject({ code: '23505' })
  expect(await rows()).toEqual([{ id: 1, note: 'it\'s \\ "one"' }])
})

it('a folded statement that fails rolls back and leaves the session able to fold again', async () => {
  // id 1 exists: the EXECUTE fails after PREPARE, so its DEALLOCATE is left to the rollback
  const duplicate = db.transaction((tx) => tx.query('fold_insert', 'INSERT INTO fold_t (id, note) VALUES ($1, $2)', [1, 'again']), { first: refuse(false), fold })
  await expect(duplicate).rejects.toMatchObject({ code: '23505' })
  // a statement that does not even prepare (an unknown column): nothing to deallocate
  const broken = db.transaction((tx) => tx.query('fold_bad', 'INSERT INTO fold_t (id, nope) VALUES ($1, $2)', [3, 'x']), { first: refuse(false), fold })
  await expect(broken).rejects.toMatchObject({ code: '42703' })
  await db.transaction((tx) => tx.query('fold_insert', 'INSERT INTO fold_t (id, note) VALUES ($1, $2)', [3, null]), { first: refuse(false), fold })
  expect(await rows()).toEqual([{ id: 1, note: 'it\'s \\ "one"' }, { id: 3, note: null }])
  const { rows: prepared } = await db.query('prepared', "SELECT name FROM pg_prepared_statements WHERE name = 'bastion_folded'")
  expect(prepared).toEqual([])
})

it('sends a statement whose values cannot be inlined on its own, after BEGIN and first', async () => {
  trips.length = 0
  await db.transaction((tx) => tx.query('fold_insert_json', 'INSERT INTO fold_t (id, note) VALUES ($1, $2)', [4, { json: true }]), { first: refuse(false), fold })
  expect(trips.map((t) => t.split(/[\s;]+/)[0])).toEqual(['BEGIN', 'INSERT', 'COMMIT'])
  expect((await rows()).at(-1)).toEqual({ id: 4, note: '{"json":true}' })
  // and a refusal still keeps it from running
  await expect(db.transaction((tx) => tx.query('fold_insert_json', 'INSERT INTO fold_t (id, note) VALUES ($1, $2)', [5, { json: true }]), { first: refuse(true), fold }))
    .rejects.toMatchObject({ code: REFUSAL })
  expect(await rows()).toHaveLength(3)
})

it('runs BEGIN and first even when fn sends nothing', async () => {
  trips.length = 0
  await expect(db.transaction(async () => 'nothing', { first: refuse(true), fold })).rejects.toMatchObject({ code: REFUSAL })
  expect(await db.transaction(async () => 'nothing', { first: refuse(false), fold })).toBe('nothing')
  expect(trips.map((t) => t.split(/[\s;]+/)[0])).toEqual(['BEGIN', 'ROLLBACK', 'BEGIN', 'COMMIT'])
})
