// PostgreSQL write-ahead log positions (LSN, "16/B374D848") as 16 fixed-width hex digits, so that
// comparing two strings compares WAL positions, in JavaScript and in Redis's Lua alike.
export type Lsn = string

const FIXED = /^[0-9A-F]{16}$/

/** pg_lsn text to a fixed-width Lsn; null stays null */
export function toLsn (text: string | null | undefined): Lsn | null {
  if (!text) return null
  const [hi, lo] = text.split('/')
  if (lo === undefined) return null
  return (hi.padStart(8, '0') + lo.padStart(8, '0')).toUpperCase()
}

/** a value read back from Redis or memory, trusted only in the exact form written */
export function parseLsn (value: unknown): Lsn | null {
  return typeof value === 'string' && FIXED.test(value) ? value : null
}

export function maxLsn (a: Lsn | null, b: Lsn | null): Lsn | null {
  if (a === null) return b
  if (b === null) return a
  return a > b ? a : b
}

/** a server that replayed up to `at` shows every write that committed at or before `needed` */
export function reached (at: Lsn | null, needed: Lsn | null): boolean {
  return needed === null || (at !== null && at >= needed)
}
