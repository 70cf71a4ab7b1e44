-- server_register: register or renew a game server (allocator.mode http).
-- KEYS[1] the registration {gs}:<id> HASH addr, capacity, active, allocated, region
-- KEYS[2] the index        {gs}:idx  ZSET id -> expiry (ms, Redis's clock)
-- ARGV[1] id   ARGV[2] addr   ARGV[3] capacity   ARGV[4] active
-- ARGV[5] TTL (ms)   ARGV[6] region ('' for any)
-- Reply: the expiry (ms).
-- A renewal resets the allocations counted since the last one: the server's
-- own report of active matches supersedes them.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local exp = now + tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'addr', ARGV[2], 'capacity', ARGV[3], 'active', ARGV[4], 'allocated', 0, 'region', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], exp, ARGV[1])
-- The index lives as long as its longest registration: no registry key is
-- ever left without a TTL once the fleet stops renewing.
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[5]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
return exp
