-- party_inv_add: record an invitation where the invitee finds it.
-- KEYS[1] the player's invitations {p:<player>}:inv HASH party -> '<from>|<expires ms>'
-- ARGV[1] party id   ARGV[2] from   ARGV[3] expiry (ms, Redis clock)
-- ARGV[4] invitation TTL (ms)
-- Reply: 1. Expired invitations leave; the hash lives at least as long as
-- its newest invitation.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local exp = tonumber(string.match(all[i + 1], '|(%d+)$'))
  if exp and exp <= now then
    redis.call('HDEL', KEYS[1], all[i])
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
