-- sanction_record: record one violation against a player or a device.
-- KEYS[1] violations {s:<player>} or {d:<device>}  ZSET member -> time (ms)
-- ARGV[1] (unused: Redis's clock stamps it)   ARGV[2] decay (ms)
-- ARGV[3] member (unique per violation)
-- Reply: the violations still live after this one (count), the time of the
-- newest and Redis's clock now, as {count, newest_ms, now_ms}: every node
-- judges bans and their decay by the one clock.
-- Expired violations are dropped here and the key lives as long as its
-- newest violation does, so sanctions ease one step at a time and no key
-- outlives its last violation. Two nodes recording at once each add their
-- own member: no update is lost.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local decay = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - decay)
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], decay)
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
return {redis.call('ZCARD', KEYS[1]), tonumber(newest[2]), now}
