-- party_count: count the live parties, by Redis's clock.
-- KEYS[1] the index :parties ZSET party id -> expiry (ms)
-- Reply: the number of unexpired entries; expired ones leave here.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
return redis.call('ZCARD', KEYS[1])
