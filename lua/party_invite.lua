-- party_invite: the leader invites a player who is not a member; inviting
-- again refreshes the expiry.
-- KEYS[1..3] the party's keys (party_lib)
-- ARGV[1] leader   ARGV[2] invitee   ARGV[3] invitation TTL (ms)
-- ARGV[4] party TTL (ms)
-- Reply (party_lib): extra is the invitation's expiry (ms, Redis clock);
-- forbidden when the caller is not the leader or the invitee a member,
-- full when the party has max members.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return reply(NOT_FOUND)
end
local now = math.floor(now_us() / 1000)
prune(now)
if redis.call('HGET', KEYS[1], 'leader') ~= ARGV[1] or is_member(ARGV[2]) then
  return reply(FORBIDDEN)
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(redis.call('HGET', KEYS[1], 'max')) then
  return reply(FULL)
end
local exp = num(now + tonumber(ARGV[3]))
redis.call('ZADD', KEYS[3], exp, ARGV[2])
changed(ARGV[4])
return reply(OK, exp)
