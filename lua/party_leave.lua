-- party_leave: a member leaves; a leaving leader hands the lead to the
-- member who joined earliest; the last member's leave ends the party.
-- KEYS[1..3] the party's keys (party_lib)
-- ARGV[1] player   ARGV[2] the queue marker the caller expects ('' none)
-- ARGV[3] TTL (ms)
-- Reply (party_lib): ok, extra '1' when the party ended (its keys are gone,
-- so no view follows); not found; forbidden when not a member; stale when
-- the queue marker is not ARGV[2].
if redis.call('EXISTS', KEYS[1]) == 0 then
  return reply(NOT_FOUND)
end
prune(math.floor(now_us() / 1000))
if not is_member(ARGV[1]) then
  return reply(FORBIDDEN)
end
if (redis.call('HGET', KEYS[1], 'queue') or '') ~= ARGV[2] then
  return reply(STALE)
end
redis.call('ZREM', KEYS[2], ARGV[1])
local first = redis.call('ZRANGE', KEYS[2], 0, 0)
if #first == 0 then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return reply(OK, '1')
end
if redis.call('HGET', KEYS[1], 'leader') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'leader', first[1])
end
redis.call('HDEL', KEYS[1], 'queue')
changed(ARGV[3])
return reply(OK, '0')
