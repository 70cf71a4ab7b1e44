-- room_adopt: move an unresolved room to a new owner node.
-- KEYS[1] room   {m:<mode>}:room:<match_id>
-- KEYS[2] owners {m:<mode>}:own
-- ARGV[1] the owner the caller saw (the adoption fails if it changed since)
-- ARGV[2] the new owner node id ('' hands the room over: a draining owner
--         gives it up for any live node to adopt at once)
-- ARGV[3] why: 'dead' (the caller saw the owner's liveness key gone),
--         'overdue' (the owner lives, but the deadline is adopt_after behind
--         Redis's clock), or 'handover' (the owner itself gives it up)
-- ARGV[4] adopt_after (ms)   ARGV[5] an allocation's budget (ms)
-- Reply: 1 adopted; 0 the room is resolved, gone, adopted by another, not
-- overdue by Redis's clock, or (unless its owner is dead) waiting on a game
-- server within the allocation's budget: no node's clock decides, and a
-- room is never taken from a living owner in the middle of an allocation.
local st = redis.call('HGET', KEYS[1], 'state')
if st ~= 'loading' and st ~= 'allocating' then
  return 0
end
if (redis.call('HGET', KEYS[1], 'owner') or '') ~= ARGV[1] then
  return 0
end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
if ARGV[3] == 'overdue' and now < tonumber(redis.call('HGET', KEYS[1], 'deadline')) + tonumber(ARGV[4]) then
  return 0
end
if st == 'allocating' and ARGV[3] == 'overdue' then
  local at = tonumber(redis.call('HGET', KEYS[1], 'alloc_at') or '0')
  if at > 0 and now < at + tonumber(ARGV[5]) then
    return 0
  end
end
redis.call('HSET', KEYS[1], 'owner', ARGV[2])
redis.call('HSET', KEYS[2], redis.call('HGET', KEYS[1], 'match'), ARGV[2])
return 1
