-- party_index: list a party as live until its TTL passes (Redis clock).
-- KEYS[1] the index :parties ZSET party id -> expiry (ms)
-- ARGV[1] party id   ARGV[2] TTL (ms)
-- Reply: 1. The index lives as long as its latest entry.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[2])), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
