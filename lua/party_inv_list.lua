-- party_inv_list: a player's unexpired invitations, by Redis's clock.
-- KEYS[1] the player's invitations {p:<player>}:inv HASH party -> '<from>|<expires ms>'
-- Reply: {party, '<from>|<expires ms>', ...} of the unexpired ones;
-- expired ones (and any of another shape) leave here.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #all, 2 do
  local exp = tonumber(string.match(all[i + 1], '|(%d+)$'))
  if exp and exp > now then
    live[#live + 1] = all[i]
    live[#live + 1] = all[i + 1]
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return live
