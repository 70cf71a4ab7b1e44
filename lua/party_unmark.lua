-- party_unmark: clear the queue marker if it is still the caller's.
-- KEYS[1..3] the party's keys (party_lib)
-- ARGV[1] marker '<mode>|<ticket>'
-- Reply (party_lib): ok when cleared; not found; stale when the marker is
-- another (or none).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return reply(NOT_FOUND)
end
if redis.call('HGET', KEYS[1], 'queue') ~= ARGV[1] then
  return reply(STALE)
end
redis.call('HDEL', KEYS[1], 'queue')
redis.call('HINCRBY', KEYS[1], 'ver', 1)
return reply(OK)
