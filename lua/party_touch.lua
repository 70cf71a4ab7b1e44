-- party_touch: renew a party's keys for one of its members.
-- KEYS[1..3] the party's keys (party_lib)
-- ARGV[1] player   ARGV[2] TTL (ms)
-- Reply: 1 renewed, 0 the party is gone or does not list the player.
if not is_member(ARGV[1]) then
  return 0
end
renew(ARGV[2])
return 1
