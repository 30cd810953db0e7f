// The Redis key prefixes of the test apps a file built on a Redis (testConfig records them), so
// test/setup-redis.ts deletes their keys after the file: the shared Redis keeps nothing of a run.
export const redisPrefixes = new Set<string>()
