-- party_create: create a party with its leader as its only member,
-- idempotently for the same id and leader.
-- KEYS[1..3] the party's keys (party_lib)
-- ARGV[1] leader   ARGV[2] open ('1'|'0')   ARGV[3] max size   ARGV[4] TTL (ms)
-- Reply (party_lib): ok; forbidden when the id is another leader's party.
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'leader') ~= ARGV[1] then
    return reply(FORBIDDEN)
  end
  renew(ARGV[4])
  return reply(OK)
end
local us = now_us()
redis.call('HSET', KEYS[1], 'leader', ARGV[1], 'open', ARGV[2], 'max', ARGV[3],
  'created', num(math.floor(us / 1000)), 'ver', 1)
redis.call('ZADD', KEYS[2], num(us), ARGV[1])
redis.call('DEL', KEYS[3])
renew(ARGV[4])
return reply(OK)
