-- rooms_overdue: a mode's unresolved rooms whose loading deadline is at
-- least adopt_after behind Redis's clock (an owner that lives but left one
-- so long is stuck, and another node adopts it).
-- KEYS[1] rooms {m:<mode>}:rooms ZSET match_id -> loading deadline (ms)
-- ARGV[1] adopt_after (ms)
-- Reply: {match_id, deadline, ...}
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'WITHSCORES')
