-- party_promote: the leader hands the lead to another member.
-- KEYS[1..3] the party's keys (party_lib)
-- ARGV[1] leader   ARGV[2] target   ARGV[3] TTL (ms)
-- Reply (party_lib): ok (also when the target leads already); not found;
-- forbidden when the caller is not the leader or the target not a member.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return reply(NOT_FOUND)
end
prune(math.floor(now_us() / 1000))
if redis.call('HGET', KEYS[1], 'leader') ~= ARGV[1] or not is_member(ARGV[2]) then
  return reply(FORBIDDEN)
end
if ARGV[2] == ARGV[1] then
  renew(ARGV[3])
  return reply(OK)
end
redis.call('HSET', KEYS[1], 'leader', ARGV[2])
changed(ARGV[3])
return reply(OK)
