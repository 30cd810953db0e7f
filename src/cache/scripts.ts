// Lua scripts for the L2 cache (src/cache/two-level.ts). Each runs atomically in Redis, so an
// invalidation and a write-back cannot interleave. Names are passed fully prefixed in ARGV
// (REDIS_KEY_PREFIX), since tag sets are derived inside the scripts. Times are Redis's own clock
// in microseconds, so the instances' clocks never matter.

/**
 * ARGV: floorKey, key1..keyN. Returns the N values (false = miss), the current time, then the
 * freshness floor ('' = none): the WAL position of the newest write that invalidated anything.
 */
export const L2_GET = `
local keys = {unpack(ARGV, 2)}
local out = redis.call('MGET', unpack(keys))
local t = redis.call('TIME')
out[#keys + 1] = t[1] .. string.format('%06d', t[2])
out[#keys + 2] = redis.call('GET', ARGV[1]) or ''
return out`

/**
 * ARGV: prefix, since, ttlSeconds, then per entry: key, value, tagsJson.
 * An entry is written only if none of its tags was invalidated at or after \`since\` (its L2 miss).
 */
export const L2_SET = `
local prefix, since, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local written = 0
for i = 4, #ARGV, 3 do
  local tags = cjson.decode(ARGV[i + 2])
  local fresh = true
  for _, tag in ipairs(tags) do
    local stamp = redis.call('GET', prefix .. 'tag:' .. tag .. ':inv')
    if stamp and tonumber(stamp) >= since then fresh = false break end
  end
  if fresh then
    redis.call('SET', ARGV[i], ARGV[i + 1], 'EX', ttl)
    for _, tag in ipairs(tags) do
      local set = prefix .. 'tag:' .. tag
      redis.call('SADD', set, ARGV[i])
      redis.call('EXPIRE', set, ttl + 60)
    end
    written = written + 1
  end
end
return written`

/**
 * ARGV: prefix, channel, tagsJson[, lsn]. Raises the freshness floor to lsn (fixed-width hex: string
 * order is WAL order), deletes every key of each tag, stamps the tag, publishes the tags.
 */
export const L2_INVALIDATE = `
local prefix = ARGV[1]
if ARGV[4] then
  local floor = redis.call('GET', prefix .. 'lsn:floor')
  if not floor or floor < ARGV[4] then redis.call('SET', prefix .. 'lsn:floor', ARGV[4], 'EX', 3600) end
end
local t = redis.call('TIME')
local now = t[1] .. string.format('%06d', t[2])
for _, tag in ipairs(cjson.decode(ARGV[3])) do
  local set = prefix .. 'tag:' .. tag
  for _, key in ipairs(redis.call('SMEMBERS', set)) do redis.call('DEL', key) end
  redis.call('DEL', set)
  redis.call('SET', set .. ':inv', now, 'EX', 300)
end
return redis.call('PUBLISH', ARGV[2], ARGV[3])`
