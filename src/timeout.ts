// One bound for a promise that cannot be cancelled: a pg query (node-postgres takes no
// AbortSignal) or an exporter's flush. fetch() takes AbortSignal.timeout() instead
// (src/auth/jwks-fetch.ts). Written here because it is six lines: the timer is cleared as soon as
// the promise settles, so a quick answer leaves nothing armed.

/** promise, or a rejection with `message` once `ms` have passed, whichever comes first */
export function withTimeout<T> (promise: Promise<T>, ms: number, message = `timed out after ${ms} ms`): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([promise, new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })]).finally(() => clearTimeout(timer))
}
