-- party_get: read a party, dropping its expired invitations.
-- KEYS[1..3] the party's keys (party_lib)
-- Reply (party_lib): ok with the view, or not found.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return reply(NOT_FOUND)
end
prune(math.floor(now_us() / 1000))
return reply(OK)
