-- party_ptr_release: delete a player's party pointer if it names the party.
-- KEYS[1] the player's party pointer {p:<player>}:party STRING party id
-- ARGV[1] party id
-- Reply: 1 deleted, 0 it named another party or none.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
