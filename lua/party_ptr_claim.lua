-- party_ptr_claim: point a player at a party, unless it points at another
-- party the caller has not found stale.
-- KEYS[1] the player's party pointer {p:<player>}:party STRING party id
-- ARGV[1] party id   ARGV[2] the pointer the caller found stale ('' none)
-- ARGV[3] TTL (ms)
-- Reply: {1, previous ('' none)} claimed; {0, current} it names another
-- party: the caller checks whether that party lists the player (then the
-- player is in a party) and else claims again with ARGV[2] = current.
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] and cur ~= ARGV[2] then
  return {0, cur}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return {1, cur or ''}
