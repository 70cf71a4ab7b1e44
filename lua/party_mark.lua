-- party_mark: record that the leader queued the party with a ticket, if
-- the party is still the version the leader read (so the ticket lists its
-- members); idempotent for the marker in place.
-- KEYS[1..3] the party's keys (party_lib)
-- ARGV[1] leader   ARGV[2] marker '<mode>|<ticket>'   ARGV[3] expected ver
-- ARGV[4] TTL (ms)
-- Reply (party_lib): ok; not found; forbidden when not the leader; stale
-- when ver is not ARGV[3].
if redis.call('EXISTS', KEYS[1]) == 0 then
  return reply(NOT_FOUND)
end
prune(math.floor(now_us() / 1000))
local h = redis.call('HMGET', KEYS[1], 'leader', 'queue', 'ver')
if h[1] ~= ARGV[1] then
  return reply(FORBIDDEN)
end
if h[2] == ARGV[2] then
  renew(ARGV[4])
  return reply(OK)
end
if h[3] ~= ARGV[3] then
  return reply(STALE)
end
redis.call('HSET', KEYS[1], 'queue', ARGV[2])
changed(ARGV[4])
return reply(OK)
