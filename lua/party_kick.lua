-- party_kick: the leader removes another member.
-- KEYS[1..3] the party's keys (party_lib)
-- ARGV[1] leader   ARGV[2] target   ARGV[3] the queue marker the caller
-- expects ('' none)   ARGV[4] TTL (ms)
-- Reply (party_lib): ok; not found; forbidden when the caller is not the
-- leader or the target not another member; stale when the queue marker is
-- not ARGV[3].
if redis.call('EXISTS', KEYS[1]) == 0 then
  return reply(NOT_FOUND)
end
prune(math.floor(now_us() / 1000))
local h = redis.call('HMGET', KEYS[1], 'leader', 'queue')
if h[1] ~= ARGV[1] or ARGV[2] == ARGV[1] or not is_member(ARGV[2]) then
  return reply(FORBIDDEN)
end
if (h[2] or '') ~= ARGV[3] then
  return reply(STALE)
end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[1], 'queue')
changed(ARGV[4])
return reply(OK)
