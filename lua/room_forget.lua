-- room_forget: clean up after a room whose record is gone before anyone
-- resolved it (its TTL passed while every node was down, or Redis evicted
-- it), so its players are not held "in a room" forever.
-- KEYS[1] room    {m:<mode>}:room:<match_id>
-- KEYS[2] rooms   {m:<mode>}:rooms
-- KEYS[3] owners  {m:<mode>}:own
-- KEYS[4] players {m:<mode>}:pl
-- ARGV[1] match id
-- Reply: the number of players freed; -1 when the room record exists
-- (nothing changed: it must be resolved, not forgotten).
-- This scans the players hash: a rare repair path, not a hot one.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return -1
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
local seat, freed, cursor = 'm:' .. ARGV[1], 0, '0'
repeat
  local page = redis.call('HSCAN', KEYS[4], cursor, 'COUNT', 1000)
  cursor = page[1]
  for i = 1, #page[2], 2 do
    if page[2][i + 1] == seat then
      redis.call('HDEL', KEYS[4], page[2][i])
      freed = freed + 1
    end
  end
until cursor == '0'
return freed
