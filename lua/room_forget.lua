-- room_forget: clean up after a room whose record is gone before anyone
-- resolved it (its TTL passed while every node was down, or Redis evicted
-- it), so its players are not held "in a room" forever.
-- KEYS[1] room    {m:<mode>}:room:<match_id>
-- KEYS[2] rooms   {m:<mode>}:rooms
-- KEYS[3] owners  {m:<mode>}:own
-- KEYS[4] players {m:<mode>}:pl
-- ARGV[1] match id
-- Reply: {1, player...} the room was forgotten and these players freed (the
-- caller records their room_lost outcome, a step of its own since their
-- lists could not be named before this ran); {0} the room was not in the
-- indexes (someone else forgot it); {-1} the room record exists (nothing
-- changed: it must be resolved, not forgotten).
-- This scans the players hash: a rare repair path, not a hot one.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {-1}
end
local indexed = redis.call('ZREM', KEYS[2], ARGV[1]) + redis.call('HDEL', KEYS[3], ARGV[1])
local seat, reply, cursor = 'm:' .. ARGV[1], {1}, '0'
repeat
  local page = redis.call('HSCAN', KEYS[4], cursor, 'COUNT', 1000)
  cursor = page[1]
  for i = 1, #page[2], 2 do
    if page[2][i + 1] == seat then
      redis.call('HDEL', KEYS[4], page[2][i])
      reply[#reply + 1] = page[2][i]
    end
  end
until cursor == '0'
if indexed == 0 and #reply == 1 then
  return {0}
end
return reply
