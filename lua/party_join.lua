-- party_join: a player joins, if the party is open or invites it.
-- KEYS[1..3] the party's keys (party_lib)
-- ARGV[1] player   ARGV[2] the queue marker the caller expects ('' none)
-- ARGV[3] TTL (ms)
-- Reply (party_lib): ok (also when already a member); forbidden when
-- closed and the player holds no unexpired invitation; full; stale when the
-- queue marker is not ARGV[2]. A join clears the marker: the party's ticket
-- no longer lists its members.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return reply(NOT_FOUND)
end
local us = now_us()
prune(math.floor(us / 1000))
if is_member(ARGV[1]) then
  renew(ARGV[3])
  return reply(OK)
end
local h = redis.call('HMGET', KEYS[1], 'open', 'max', 'queue')
if h[1] ~= '1' and redis.call('ZSCORE', KEYS[3], ARGV[1]) == false then
  return reply(FORBIDDEN)
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(h[2]) then
  return reply(FULL)
end
if (h[3] or '') ~= ARGV[2] then
  return reply(STALE)
end
-- Join order: Redis's clock, past the latest member so no two tie.
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if last[2] and tonumber(last[2]) >= us then
  us = tonumber(last[2]) + 1
end
redis.call('ZADD', KEYS[2], num(us), ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[1], 'queue')
changed(ARGV[3])
return reply(OK)
