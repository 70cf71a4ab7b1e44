-- room_adopt: move an unresolved room to a new owner node.
-- KEYS[1] room   {m:<mode>}:room:<match_id>
-- KEYS[2] owners {m:<mode>}:own
-- ARGV[1] the owner the caller saw (the adoption fails if it changed since)
-- ARGV[2] the new owner node id
-- Reply: 1 adopted; 0 the room is resolved, gone, or was adopted by another.
local st = redis.call('HGET', KEYS[1], 'state')
if st ~= 'loading' and st ~= 'allocating' then
  return 0
end
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'owner', ARGV[2])
redis.call('HSET', KEYS[2], redis.call('HGET', KEYS[1], 'match'), ARGV[2])
return 1
