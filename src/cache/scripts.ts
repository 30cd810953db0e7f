// Lua scripts for the L2 cache (src/cache/two-level.ts). Each runs atomically in Redis, so an
// invalidation and a write-back cannot interleave. Names are passed fully prefixed in ARGV
// (REDIS_KEY_PREFIX), since tag sets are derived inside the scripts. Times are Redis's own clock
// in microseconds, so the instances' clocks never matter.

/** ARGV: key1..keyN. Returns the N values (false = miss), then the current time. */
export const L2_GET = `
local out = redis.call('MGET', unpack(ARGV))
local t = redis.call('TIME')
out[#ARGV + 1] = t[1] .. string.format('%06d', t[2])
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

/** ARGV: prefix, channel, tagsJson. Deletes every key of each tag, stamps the tag, publishes the tags. */
export const L2_INVALIDATE = `
local prefix = ARGV[1]
local t = redis.call('TIME')
local now = t[1] .. string.format('%06d', t[2])
for _, tag in ipairs(cjson.decode(ARGV[3])) do
  local set = prefix .. 'tag:' .. tag
  for _, key in ipairs(redis.call('SMEMBERS', set)) do redis.call('DEL', key) end
  redis.call('DEL', set)
  redis.call('SET', set .. ':inv', now, 'EX', 300)
end
return redis.call('PUBLISH', ARGV[2], ARGV[3])`
