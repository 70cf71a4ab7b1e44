-- servers_live: the live game-server registrations, by Redis's clock.
-- KEYS[1] the index {gs}:idx ZSET id -> expiry (ms)
-- Reply: {id, expiry, ...} of the registrations that have not expired;
-- expired entries leave the index here.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
