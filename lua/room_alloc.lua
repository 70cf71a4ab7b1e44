-- room_alloc: record, in the room, the game-server allocation about to be
-- asked for, before anyone asks, so that nobody asks twice: a room actor
-- restarted during the call, a resolve that failed after it, or a node that
-- adopts the room all find the allocation in flight here.
-- KEYS[1] room {m:<mode>}:room:<match_id>
-- ARGV[1] who asks (node id and process incarnation)
-- ARGV[2] the server chosen (id or address)
-- ARGV[3] the attempt number (1, 2, ...)
-- ARGV[4] the allocation's budget (ms): past it an allocation in flight is
--         taken for dead
-- Reply: {'ok'} recorded: the caller asks ARGV[2];
--        {'held', by, server, attempt} another asker's allocation is in
--        flight within its budget (the caller must not ask);
--        {'not_allocating', state} the room is not waiting for a server.
local st = redis.call('HGET', KEYS[1], 'state')
if st ~= 'allocating' then
  return {'not_allocating', st or 'gone'}
end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local by = redis.call('HGET', KEYS[1], 'alloc_by')
if by and by ~= ARGV[1] then
  local at = tonumber(redis.call('HGET', KEYS[1], 'alloc_at') or '0')
  if now < at + tonumber(ARGV[4]) then
    return {'held', by, redis.call('HGET', KEYS[1], 'alloc_server') or '', redis.call('HGET', KEYS[1], 'alloc_attempt') or '0'}
  end
end
redis.call('HSET', KEYS[1], 'alloc_by', ARGV[1], 'alloc_server', ARGV[2], 'alloc_attempt', ARGV[3], 'alloc_at', now)
return {'ok'}
