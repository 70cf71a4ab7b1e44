-- party_ptr_touch: renew a player's party pointer for a party that lists
-- the player (the caller checked), recreating it when Redis lost it.
-- KEYS[1] the player's party pointer {p:<player>}:party STRING party id
-- ARGV[1] party id   ARGV[2] TTL (ms)
-- Reply: 1 renewed, 0 it names another party (left alone).
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
